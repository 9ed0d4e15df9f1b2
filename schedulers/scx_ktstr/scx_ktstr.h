/* Counters scx_ktstr.bpf.c keeps, in its order, for the shared loader. */
#define KTSTR_NR_COUNTERS 3
static const char *ktstr_counter_names[KTSTR_NR_COUNTERS] = {"direct", "queued", "consumed"};
