/* Type registration: fixed types with and without reference offsets,
 * arrays of references and of data, a fixed part before array elements,
 * a trace callback; and the struct layouts the library was built with. */
#include "check.h"

/* The library checks the same sizes (ffi/src/header_check.rs). */
_Static_assert(sizeof(strata_config) == 64, "strata_config layout");
_Static_assert(sizeof(strata_type_desc) == 64, "strata_type_desc layout");

static strata_type_id registered(strata_heap *heap, const strata_type_desc *desc) {
    strata_type_id id = 0;
    EXPECT_OK(strata_register_type(heap, desc, &id));
    CHECK(id != 0);
    return id;
}

int main(void) {
    strata_heap *heap = small_heap();

    strata_type_desc plain = fixed_type("plain", 24, NULL, 0);
    uint32_t node_offsets[2] = {0, 8};
    strata_type_desc node = fixed_type("node", 24, node_offsets, 2);
    strata_type_desc traced = plain;
    traced.name = "traced node";
    traced.trace = trace_node;

    strata_type_desc refs = {0};
    refs.name = "refs";
    refs.layout = STRATA_LAYOUT_ARRAY;
    refs.element_bytes = 8;
    refs.elements_are_refs = true;

    strata_type_desc bytes = {0};
    bytes.name = "bytes";
    bytes.layout = STRATA_LAYOUT_ARRAY;
    bytes.element_bytes = 1;

    /* A class pointer after the count, then the elements. */
    uint32_t class_offset[1] = {8};
    strata_type_desc instance = refs;
    instance.name = "instance";
    instance.body_bytes = 8;
    instance.ref_offsets = class_offset;
    instance.ref_offset_count = 1;

    strata_type_id ids[6] = {
        registered(heap, &plain), registered(heap, &node),  registered(heap, &traced),
        registered(heap, &refs),  registered(heap, &bytes), registered(heap, &instance),
    };
    for (int i = 0; i < 6; i++) {
        for (int j = 0; j < i; j++) {
            CHECK(ids[i] != ids[j]);
        }
    }
    /* Registering the same description twice makes two types. */
    CHECK(registered(heap, &node) != ids[1]);

    /* Registration needs no attached thread, but works beside one. */
    strata_thread *thread = NULL;
    EXPECT_OK(strata_thread_attach(heap, &thread));
    registered(heap, &traced);
    EXPECT_OK(strata_thread_collect_major(thread));
    EXPECT_OK(strata_thread_detach(thread));
    EXPECT_OK(strata_heap_destroy(heap));
    puts("types: ok");
    return 0;
}
