/* One counter each: enqueues (stall) or dispatches (error), for the shared loader. */
#define KTSTR_NR_COUNTERS 1
static const char *ktstr_counter_names[KTSTR_NR_COUNTERS] = {"events"};
