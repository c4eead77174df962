// strata.h compiles as C++ (extern "C", no C-only constructs) and links.
#include "strata.h"

int main() {
    strata_config config;
    if (strata_config_init(&config) != STRATA_OK) {
        return 1;
    }
    config.huge_pages = false;
    strata_heap *heap = nullptr;
    if (strata_heap_create(&config, &heap) != STRATA_OK) {
        return 2;
    }
    strata_thread *thread = nullptr;
    if (strata_thread_attach(heap, &thread) != STRATA_OK ||
        strata_thread_detach(thread) != STRATA_OK) {
        return 3;
    }
    return strata_heap_destroy(heap) == STRATA_OK && strata_version() == STRATA_VERSION ? 0 : 4;
}
