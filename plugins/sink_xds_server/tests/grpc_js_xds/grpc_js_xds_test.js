// gRPC's own xDS client for Node (@grpc/grpc-js-xds) against crossover's
// xds_server sink: the channel `xds:///podinfo` resolves through the server
// (LDS api_listener -> RDS -> CDS -> EDS) to two local gRPC servers, the calls
// split as the TrafficSplit says, a canary step moves the split without
// restarting the client, and so does an endpoint change (EDS): the canary's
// ClusterLoadAssignment moves to another server and the calls follow it.
//
// Usage: node grpc_js_xds_test.js CROSSOVER_BINARY PROTO_PATH
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawn } = require('child_process');
const grpc = require('@grpc/grpc-js');
const grpcXds = require('@grpc/grpc-js-xds');

const [crossoverBin, protoPath] = process.argv.slice(2);
const CALLS = 1000;
const METHOD = '/test.Backend/Who';
const raw = (b) => b;

let crossover = null;
let stderr = '';
const servers = [];
let tmp = null;

function cleanup() {
  if (crossover && crossover.exitCode === null) {
    crossover.kill('SIGKILL');
  }
  for (const s of servers) {
    s.forceShutdown();
  }
  if (tmp) {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

function fail(message) {
  console.error(`FAIL: ${message}`);
  console.error('--- crossover log ---\n' + stderr);
  cleanup();
  process.exit(1);
}

// Writes by rename, as editors and kubectl-like tools do.
function writeFile(file, text) {
  fs.writeFileSync(file + '.tmp', text);
  fs.renameSync(file + '.tmp', file);
}

// A gRPC server answering every call with its name.
function startBackend(name) {
  const server = new grpc.Server();
  server.addService(
    {
      Who: {
        path: METHOD, requestStream: false, responseStream: false,
        requestSerialize: raw, requestDeserialize: raw,
        responseSerialize: raw, responseDeserialize: raw,
      },
    },
    { Who: (call, callback) => callback(null, Buffer.from(name)) });
  servers.push(server);
  return new Promise((resolve, reject) => {
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(),
      (err, port) => (err ? reject(err) : resolve(port)));
  });
}

function trafficSplit(primary, canary) {
  return `apiVersion: split.smi-spec.io/v1alpha2
kind: TrafficSplit
metadata:
  name: podinfo
  namespace: test
spec:
  service: podinfo
  backends:
  - service: podinfo-primary
    weight: ${primary}
  - service: podinfo-canary
    weight: ${canary}
`;
}

function endpoints(name, port) {
  return `- "@type": type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment
  cluster_name: ${name}
  endpoints:
  - locality: {region: local, zone: a}
    load_balancing_weight: 1
    lb_endpoints:
    - endpoint:
        address:
          socket_address: {address: 127.0.0.1, port_value: ${port}}
`;
}

function writeEds(dir, primaryPort, canaryPort) {
  writeFile(path.join(dir, 'eds.yaml'), 'version_info: "1"\nresources:\n' +
    endpoints('podinfo-primary', primaryPort) + endpoints('podinfo-canary', canaryPort));
}

function writeXds(dir, primaryPort, canaryPort) {
  const cluster = (name) => `- "@type": type.googleapis.com/envoy.config.cluster.v3.Cluster
  name: ${name}
  type: EDS
  lb_policy: ROUND_ROBIN
  connect_timeout: 1s
  eds_cluster_config: {eds_config: {ads: {}, resource_api_version: V3}}
`;
  writeFile(path.join(dir, 'cds.yaml'),
    'version_info: "1"\nresources:\n' + cluster('podinfo-primary') + cluster('podinfo-canary'));
  writeEds(dir, primaryPort, canaryPort);
  writeFile(path.join(dir, 'lds.yaml'), `version_info: "1"
resources:
- "@type": type.googleapis.com/envoy.config.listener.v3.Listener
  name: podinfo
  api_listener:
    api_listener:
      "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
      stat_prefix: podinfo
      rds:
        route_config_name: podinfo
        config_source: {ads: {}, resource_api_version: V3}
      http_filters:
      - name: envoy.filters.http.router
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
`);
  // The ConfigMap's weights; the TrafficSplit overrides them.
  writeFile(path.join(dir, 'rds.yaml'), `version_info: "1"
resources:
- "@type": type.googleapis.com/envoy.config.route.v3.RouteConfiguration
  name: podinfo
  virtual_hosts:
  - name: podinfo
    domains: ["*"]
    routes:
    - match: {prefix: ""}
      route:
        weighted_clusters:
          clusters:
          - name: podinfo-primary
            weight: 50
          - name: podinfo-canary
            weight: 50
`);
}

function startCrossover(pipeline) {
  crossover = spawn(crossoverBin, ['run', pipeline, '--listen', 'off'], { stdio: ['ignore', 'ignore', 'pipe'] });
  crossover.stderr.on('data', (d) => { stderr += d.toString(); });
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + 30000;
    const poll = () => {
      const m = /serving xDS .* on 127\.0\.0\.1:([0-9]+)/.exec(stderr);
      if (m) {
        resolve(Number(m[1]));
      } else if (crossover.exitCode !== null || Date.now() > deadline) {
        reject(new Error('crossover did not start serving xDS'));
      } else {
        setTimeout(poll, 10);
      }
    };
    poll();
  });
}

function call(client) {
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(METHOD, raw, raw, Buffer.alloc(0), new grpc.Metadata(),
      { deadline: Date.now() + 30000 },
      (err, response) => (err ? reject(err) : resolve(response.toString())));
  });
}

// Counts which backend answered `n` calls, 50 in flight at a time.
async function split(client, n) {
  const counts = { primary: 0, canary: 0, 'canary-moved': 0 };
  for (let done = 0; done < n;) {
    const batch = Math.min(50, n - done);
    const answers = await Promise.all(Array.from({ length: batch }, () => call(client)));
    for (const a of answers) {
      counts[a] += 1;
    }
    done += batch;
  }
  return counts;
}

// Binomial tolerance: the canary count of n calls at probability p lies
// within 5 standard deviations of n*p (false failure odds below 1e-6).
function checkSplit(counts, n, canaryShare, what, canary = 'canary') {
  const mean = n * canaryShare;
  const sd = Math.sqrt(n * canaryShare * (1 - canaryShare));
  const low = Math.floor(mean - 5 * sd);
  const high = Math.ceil(mean + 5 * sd);
  console.log(`${what}: primary ${counts.primary}, ${canary} ${counts[canary]} of ${n} ` +
              `(expected ${canary} in [${low}, ${high}])`);
  if (counts.primary + counts[canary] !== n || counts[canary] < low || counts[canary] > high) {
    fail(`${what}: the split does not follow the TrafficSplit`);
  }
}

async function main() {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'crossover-grpc-js-xds-'));
  const xdsDir = path.join(tmp, 'xds');
  fs.mkdirSync(xdsDir);
  const primaryPort = await startBackend('primary');
  const canaryPort = await startBackend('canary');
  const movedPort = await startBackend('canary-moved');
  writeXds(xdsDir, primaryPort, canaryPort);
  writeFile(path.join(xdsDir, 'trafficsplit.yaml'), trafficSplit(90, 10));
  const pipeline = path.join(tmp, 'pipeline.yaml');
  writeFile(pipeline, `sources:
  files:
    type: file
    paths: [${xdsDir}]
    watch: true
transforms:
  weighted:
    type: smi_merge
    inputs: [files]
sinks:
  xds:
    type: xds_server
    inputs: [weighted]
    listen: 127.0.0.1:0
    proto_path: ${protoPath}
`);
  const port = await startCrossover(pipeline);
  console.log(`crossover serves xDS on 127.0.0.1:${port}`);

  process.env.GRPC_XDS_BOOTSTRAP_CONFIG = JSON.stringify({
    xds_servers: [{
      server_uri: `127.0.0.1:${port}`,
      channel_creds: [{ type: 'insecure' }],
      server_features: ['xds_v3'],
    }],
    node: { id: 'grpc-js-xds-test', cluster: 'test', locality: { region: 'local', zone: 'a' } },
  });
  grpcXds.register();
  const client = new grpc.Client('xds:///podinfo', grpc.credentials.createInsecure());

  checkSplit(await split(client, CALLS), CALLS, 0.1, 'TrafficSplit 90/10');

  // A canary step: the same client follows it.
  writeFile(path.join(xdsDir, 'trafficsplit.yaml'), trafficSplit(50, 50));
  const deadline = Date.now() + 30000;
  for (;;) {
    const probe = await split(client, 100);
    // At 90/10, 30 canary answers of 100 are over 6 standard deviations away.
    if (probe.canary >= 30) {
      break;
    }
    if (Date.now() > deadline) {
      fail('the split did not move within 30 s of the TrafficSplit change');
    }
  }
  checkSplit(await split(client, CALLS), CALLS, 0.5, 'TrafficSplit 50/50');

  // An endpoint change (EDS only): the canary's ClusterLoadAssignment names
  // another server; the client drops the old endpoint and calls the new one.
  writeEds(xdsDir, primaryPort, movedPort);
  const edsDeadline = Date.now() + 30000;
  for (;;) {
    const probe = await split(client, 100);
    if (probe.canary === 0 && probe['canary-moved'] > 0) {
      break;
    }
    if (Date.now() > edsDeadline) {
      fail('the calls did not follow the endpoint change within 30 s');
    }
  }
  checkSplit(await split(client, CALLS), CALLS, 0.5, 'canary endpoint moved', 'canary-moved');

  client.close();
  crossover.kill('SIGTERM');
  const code = await new Promise((resolve) => crossover.on('exit', (c) => resolve(c)));
  if (code !== 0) {
    fail(`crossover exited with ${code} after SIGTERM`);
  }
  cleanup();
  console.log('PASS');
  process.exit(0);
}

main().catch((e) => fail(e.stack || String(e)));
