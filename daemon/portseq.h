/*
 * portseq.h: the peer ports a job may use, the same on every node.
 *
 * A fixed port per job (the old PORT_BASE + JOBID % 1000) fails when
 * another program holds it, or when two jobs on a node share it.  Instead
 * each job has a sequence of candidates within [base, base + span), drawn
 * from its community name (the SLURM job id): every node computes the
 * same sequence, each daemon listens on the first candidate free on its
 * node, and a connecting daemon tries them in order, keeping the one
 * whose handshake proves the job key.  The candidates of one job are
 * distinct; two jobs' sequences differ unless their names hash alike.
 */
#ifndef ASOC_PORTSEQ_H
#define ASOC_PORTSEQ_H

#include <stdint.h>

/* Candidate i (from 0) of the job named name.  span 1 gives base
 * always; base + span - 1 must not pass 65535. */
uint16_t portseq_port(unsigned base, unsigned span, const char *name,
    unsigned i);

#endif
