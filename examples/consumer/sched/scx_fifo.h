/* Counters scx_fifo.bpf.c keeps, in its order, for ktstr's shared loader. */
#define KTSTR_NR_COUNTERS 2
static const char *ktstr_counter_names[KTSTR_NR_COUNTERS] = {"local", "global"};
