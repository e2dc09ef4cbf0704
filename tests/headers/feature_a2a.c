/* Compiles <ruvector/feature-a2a.h> alone: it must be self-contained. */
#include <ruvector/feature-a2a.h>
#include <ruvector/feature-a2a.h> /* and idempotent */

/* The first slots are what RUV_A2A_OPS_SIZE_V1 promises hosts. */
_Static_assert(RUV_A2A_OPS_SIZE_V1 <= sizeof(struct ruv_a2a_ops), "ops size");
_Static_assert(offsetof(struct ruv_a2a_ops, struct_size) == 0, "struct_size first");
_Static_assert(offsetof(struct ruv_a2a_options, struct_size) == 0, "struct_size first");
_Static_assert(offsetof(struct ruv_a2a_pinned_key, struct_size) == 0, "struct_size first");
_Static_assert(RUV_A2A_OPTIONS_SIZE_V1 < RUV_A2A_OPTIONS_SIZE_V2, "options v2 appends");
_Static_assert(RUV_A2A_OPTIONS_SIZE_V2 == sizeof(struct ruv_a2a_options), "options v2 is whole");

int ruv_test_header_feature_a2a(void);
int ruv_test_header_feature_a2a(void) { return RUV_A2A_AGENT_ID_SIZE == 65 ? 0 : 1; }

/* The client slots (V2) and their structs. */
_Static_assert(RUV_A2A_OPS_SIZE_V1 < RUV_A2A_OPS_SIZE_V2, "v2 appends");
_Static_assert(offsetof(struct ruv_a2a_client_options, struct_size) == 0, "struct_size first");
_Static_assert(offsetof(struct ruv_a2a_call_status, struct_size) == 0, "struct_size first");
_Static_assert(offsetof(struct ruv_a2a_policy, struct_size) == 0, "struct_size first");
_Static_assert(offsetof(struct ruv_a2a_budget_options, struct_size) == 0, "struct_size first");

/* The I/O-thread slots (V3) and their event. */
_Static_assert(RUV_A2A_OPS_SIZE_V2 < RUV_A2A_OPS_SIZE_V3, "v3 appends");
_Static_assert(offsetof(struct ruv_a2a_event, struct_size) == 0, "struct_size first");

/* Connecting on the I/O thread (V4). */
_Static_assert(RUV_A2A_OPS_SIZE_V3 < RUV_A2A_OPS_SIZE_V4, "v4 appends");
_Static_assert(RUV_A2A_OPS_SIZE_V4 == sizeof(struct ruv_a2a_ops), "ops v4 is whole");
