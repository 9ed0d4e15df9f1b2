/* Counters scx_slow.bpf.c keeps, in its order, for the shared loader. */
#define KTSTR_NR_COUNTERS 2
static const char *ktstr_counter_names[KTSTR_NR_COUNTERS] = {"dispatched", "burn_loops"};
