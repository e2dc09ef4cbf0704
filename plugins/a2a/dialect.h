/* plugins/a2a/dialect.h — A2A v1.0 and v0.3 over JSON-RPC (a2a.md §1-§3):
 * method names, requests translated from the v1.0 shape callers write, and
 * results and stream events normalized to the v1.0 shape callers read. */
#ifndef RUV_A2A_DIALECT_H
#define RUV_A2A_DIALECT_H

#include <stdint.h>
#include <jansson.h>

/* The JSON-RPC method name of enum ruv_a2a_method m; NULL if unknown. */
const char *ruv__dialect_method(int v1, uint32_t m);

/* Rewrites v1.0-shaped params in place for the wire: for RUV_A2A_SEND,
 * configuration.returnImmediately (v1.0) or blocking:false (v0.3); for
 * v0.3, messages and parts get their kind fields, roles and file parts
 * their v0.3 names. RUV_E_INVAL names a part that cannot be expressed
 * (a non-object data part over v0.3) or params of the wrong shape. */
int ruv__dialect_params_out(int v1, uint32_t m, json_t *params);

/* Validates and normalizes a unary result to v1.0: RUV_A2A_SEND gives
 * {"task":T} or {"message":M}; RUV_A2A_GET and RUV_A2A_CANCEL a Task.
 * *out is a new reference. RUV_E_PROTOCOL when the result has the wrong
 * shape. */
int ruv__dialect_result_in(int v1, uint32_t m, json_t *result, json_t **out);

/* Normalizes one stream event's result to a v1.0 StreamResponse (exactly
 * one of task, message, statusUpdate, artifactUpdate). *ends is set to 1
 * when the stream is over after it: a message, or a task or status whose
 * state is terminal or interrupted (v0.3: also final:true). */
int ruv__dialect_event_in(int v1, json_t *result, json_t **out, int *ends);

/* 1 if the v1.0 state name is terminal or interrupted (the stream ends). */
int ruv__dialect_state_ends(const char *state);

#endif
