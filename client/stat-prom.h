/*
 * stat-prom.h: asoc-stat's counters in Prometheus' text exposition
 * format (for node_exporter's textfile collector or a scrape wrapper).
 */
#ifndef ASOC_STAT_PROM_H
#define ASOC_STAT_PROM_H

#include <stddef.h>

#include "asoc.h"

void stat_prometheus(const asoc_node_stat_t *n, const asoc_peer_stat_t *p,
    size_t np, const asoc_ranks_stat_t *m, const asoc_rank_stat_t *r,
    size_t nr);

#endif
