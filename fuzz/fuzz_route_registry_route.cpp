// The route registry's request body parser and validator: the input is one
// JSON body as a client sends it. A body that is accepted must read back as
// the same route from its canonical JSON, and render into Envoy documents.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "render.h"
#include "route.h"

using namespace crossover::route_registry;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string body(reinterpret_cast<const char*>(data), size);
    for (const std::string name : {"", "user-123"}) {
        Route route;
        try {
            route = parse_route(body, name);
        } catch (const InvalidRoute&) {
            continue;  // a 400 naming the field
        }
        const std::string canonical = to_json_text(route_to_json(route));
        if (!(parse_route(canonical, "") == route)) {
            std::abort();  // the journal would not give back what was acknowledged
        }
        View view;
        auto stored = std::make_shared<StoredRoute>();
        stored->route = route;
        stored->version = 1;
        view.routes[route.name] = stored;
        view.version = 1;
        Renderer renderer({});
        (void)renderer.render(view);
    }
    return 0;
}
