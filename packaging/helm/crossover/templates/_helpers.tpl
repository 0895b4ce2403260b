{{/* Name of the chart, overridable. */}}
{{- define "crossover.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Fully qualified name of the release's objects. */}}
{{- define "crossover.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else if contains (include "crossover.name" .) .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name (include "crossover.name" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "crossover.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "crossover.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "crossover.selectorLabels" -}}
app.kubernetes.io/name: {{ include "crossover.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "crossover.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "crossover.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* The ConfigMap holding the Envoy xDS files crossover reads. */}}
{{- define "crossover.xdsConfigMap" -}}
{{- printf "%s-xds" (include "crossover.fullname" .) -}}
{{- end -}}

{{/* Arguments shared by the init container and the sidecar (the original crossover's flags). */}}
{{- define "crossover.args" -}}
- --namespace
- $(POD_NAMESPACE)
- --configmap
- {{ include "crossover.xdsConfigMap" . }}
{{- if .Values.smi.enabled }}
- --smi
- --trafficsplit-api-version
- {{ .Values.smi.apiVersion }}
{{- range $name, $svc := .Values.services }}
- --trafficsplit
- {{ $name }}
{{- end }}
{{- end }}
- --output-dir
- /srv/runtime
- --swap
- {{ .Values.crossover.swap }}
- --log-level
- {{ .Values.crossover.logLevel }}
{{- if .Values.crossover.insecure }}
- --insecure
{{- end }}
{{- range .Values.crossover.extraArgs }}
- {{ . | quote }}
{{- end }}
{{- end -}}

{{/* Directory Envoy watches: the parent of the `current` symlink, or `current` itself. */}}
{{- define "crossover.watchedDirectory" -}}
{{- if eq .Values.crossover.swap "symlink" -}}
/srv/runtime
{{- else -}}
/srv/runtime/current
{{- end -}}
{{- end -}}
