/*
 * _asoc.c: the C half of the Python package: libasoc's sessions, shared
 * buffers and requests as Python objects.  Policy (tensors, headers,
 * pooling, asyncio) lives in the Python half; this file only makes the
 * calls safe: the GIL is released in every blocking wait, a wait checks
 * for signals (Ctrl-C cancels the request and waits for its completion),
 * and memory Python still points at is never unmapped.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <pythread.h>

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <asoc.h>

/* Longest a wait sleeps in poll(2) before looking at signals again: a
 * signal meant for this thread interrupts poll at once; this only bounds
 * the delay when another thread took it.  Not a busy loop. */
#define WAIT_SLICE_MS	200

static PyObject *Error, *PeerLost, *Truncated, *Timeout, *NoDaemon,
    *Cancelled, *RankLeft;

/* --- errors --- */

static PyObject *
status_class(asoc_status_t st)
{
	switch (st) {
	case ASOC_EPEERLOST:
	case ASOC_ENOPEER:
		return PeerLost;
	case ASOC_ETRUNC:
		return Truncated;
	case ASOC_ETIMEDOUT:
		return Timeout;
	case ASOC_ECANCELLED:
		return Cancelled;
	case ASOC_ELEFT:
		return RankLeft;
	default:
		return Error;
	}
}

/* Raises the exception for st with asocd's (or libasoc's) message; the
 * exception carries .status (an int) too. */
static PyObject *
raise_status(PyObject *cls, asoc_status_t st, const char *msg)
{
	PyObject *status;
	PyObject *exc;

	if (cls == NULL)
		cls = status_class(st);
	if (msg == NULL || *msg == '\0')
		msg = asoc_strerror(st);
	exc = PyObject_CallFunction(cls, "s", msg);
	if (exc == NULL)
		return NULL;
	status = PyLong_FromLong(st);
	if (status == NULL || PyObject_SetAttrString(exc, "status", status) < 0)
		PyErr_Clear();
	Py_XDECREF(status);	/* SetAttr took its own reference */
	PyErr_SetObject(cls, exc);
	Py_DECREF(exc);
	return NULL;
}

/* --- Session --- */

typedef struct {
	PyObject_HEAD
	asoc_t *as;
	PyThread_type_lock lock;	/* libasoc: one thread at a time */
	int closed;		/* close() called: refuse new work */
	Py_ssize_t live_bufs;	/* Buffer objects not yet freed */
} SessionObject;

typedef struct {
	PyObject_HEAD
	SessionObject *sess;
	asoc_buf_t *buf;
	void *ptr;
	Py_ssize_t size;
	Py_ssize_t exports;	/* buffer-protocol views handed out */
	Py_ssize_t inflight;	/* requests using it */
	PyObject *weakrefs;	/* the package finds buffers by address */
} BufferObject;

typedef struct {
	PyObject_HEAD
	SessionObject *sess;
	BufferObject *buf;
	asoc_req_t *req;	/* NULL once completed */
	int done;
	asoc_completion_t c;
	char msg[256];
} RequestObject;

static PyTypeObject SessionType, BufferType, RequestType;

static void
sess_lock(SessionObject *s)
{
	if (!PyThread_acquire_lock(s->lock, NOWAIT_LOCK)) {
		Py_BEGIN_ALLOW_THREADS
		PyThread_acquire_lock(s->lock, WAIT_LOCK);
		Py_END_ALLOW_THREADS
	}
}

static void
sess_unlock(SessionObject *s)
{
	PyThread_release_lock(s->lock);
}

static int
sess_usable(SessionObject *s)
{
	if (s->as == NULL || s->closed) {
		PyErr_SetString(Error, "the node is closed: asoc.connect() "
		    "again");
		return 0;
	}
	return 1;
}

/* Session(path=None, rank=-1, world_size=0, status=False): rank is a
 * process rank with world_size, ASOC_RANK_AUTO (-1) or ASOC_RANK_NODE
 * (-2); the Python half (connect) turns its keywords into these. */
static PyObject *
Session_new(PyTypeObject *type, PyObject *args, PyObject *kw)
{
	static char *kwlist[] = { "path", "rank", "world_size", "status",
	    NULL };
	asoc_open_opts_t o;
	SessionObject *s;
	asoc_status_t st;
	asoc_t *as = NULL;
	int status = 0;

	asoc_open_opts_init(&o);
	if (!PyArg_ParseTupleAndKeywords(args, kw, "|ziip", kwlist,
	    &o.socket_path, &o.rank, &o.world_size, &status))
		return NULL;
	if (status)
		o.flags |= ASOC_OPEN_STATUS;
	Py_BEGIN_ALLOW_THREADS
	st = asoc_open_ex(&o, &as);
	Py_END_ALLOW_THREADS
	if (st != ASOC_OK) {
		char msg[512];

		snprintf(msg, sizeof msg, "%s", asoc_last_error(as));
		asoc_close(as);
		return raise_status(st == ASOC_ESYSTEM || st == ASOC_EPERM ||
		    st == ASOC_ETIMEDOUT ? NoDaemon : NULL, st, msg);
	}
	if ((s = (SessionObject *)type->tp_alloc(type, 0)) == NULL) {
		asoc_close(as);
		return NULL;
	}
	s->as = as;
	if ((s->lock = PyThread_allocate_lock()) == NULL) {
		Py_DECREF(s);
		return PyErr_NoMemory();
	}
	return (PyObject *)s;
}

static void
Session_dealloc(SessionObject *s)
{
	/* Every Buffer and Request holds a reference: none is left. */
	if (s->as != NULL)
		asoc_close(s->as);
	if (s->lock != NULL)
		PyThread_free_lock(s->lock);
	Py_TYPE(s)->tp_free((PyObject *)s);
}

static PyObject *
Session_close(SessionObject *s, PyObject *unused)
{
	(void)unused;
	s->closed = 1;
	/* Arrays may still point into buffers: the session (and the
	 * mappings) stay until the last of them is gone. */
	if (s->as != NULL && s->live_bufs == 0) {
		sess_lock(s);
		asoc_close(s->as);
		s->as = NULL;
		sess_unlock(s);
	}
	Py_RETURN_NONE;
}

static PyObject *
Session_get_rank(SessionObject *s, void *c)
{
	(void)c;
	return PyLong_FromLong(asoc_rank(s->as));
}

static PyObject *
Session_get_world(SessionObject *s, void *c)
{
	(void)c;
	return PyLong_FromLong(asoc_world_size(s->as));
}

static PyObject *
Session_get_node(SessionObject *s, void *c)
{
	(void)c;
	return PyLong_FromLong(asoc_node(s->as));
}

static PyObject *
Session_get_nodes(SessionObject *s, void *c)
{
	(void)c;
	return PyLong_FromLong(asoc_node_count(s->as));
}

/* rank_nodes(): the node of every rank, as a list; waits (GIL released)
 * until every rank has joined, within the session's timeout. */
static PyObject *
Session_rank_nodes(SessionObject *s, PyObject *unused)
{
	PyObject *list, *v;
	asoc_status_t st;
	char msg[512];
	int *nodes, n, i;

	(void)unused;
	if (!sess_usable(s))
		return NULL;
	n = asoc_world_size(s->as);
	if ((nodes = PyMem_Calloc(n > 0 ? (size_t)n : 1, sizeof *nodes)) ==
	    NULL)
		return PyErr_NoMemory();
	sess_lock(s);
	Py_BEGIN_ALLOW_THREADS
	st = asoc_rank_nodes(s->as, nodes);
	Py_END_ALLOW_THREADS
	snprintf(msg, sizeof msg, "%s", asoc_last_error(s->as));
	sess_unlock(s);
	if (st != ASOC_OK) {
		PyMem_Free(nodes);
		return raise_status(NULL, st, msg);
	}
	if ((list = PyList_New(n)) == NULL) {
		PyMem_Free(nodes);
		return NULL;
	}
	for (i = 0; i < n; i++) {
		if ((v = PyLong_FromLong(nodes[i])) == NULL) {
			Py_DECREF(list);
			PyMem_Free(nodes);
			return NULL;
		}
		PyList_SET_ITEM(list, i, v);
	}
	PyMem_Free(nodes);
	return list;
}

static PyObject *
Session_get_chunk(SessionObject *s, void *c)
{
	(void)c;
	return PyLong_FromSize_t(asoc_chunk_size(s->as));
}

static PyObject *
Session_get_path(SessionObject *s, void *c)
{
	(void)c;
	return PyUnicode_FromString(asoc_socket_path(s->as));
}

static PyObject *
Session_get_closed(SessionObject *s, void *c)
{
	(void)c;
	return PyBool_FromLong(s->closed || s->as == NULL);
}

static PyObject *
Session_fileno(SessionObject *s, PyObject *unused)
{
	(void)unused;
	if (!sess_usable(s))
		return NULL;
	return PyLong_FromLong(asoc_fd(s->as));
}

static PyObject *
Session_set_timeout(SessionObject *s, PyObject *arg)
{
	unsigned long ms = PyLong_AsUnsignedLong(arg);

	if (ms == (unsigned long)-1 && PyErr_Occurred())
		return NULL;
	if (ms > UINT32_MAX) {
		PyErr_SetString(PyExc_ValueError, "timeout too large");
		return NULL;
	}
	if (!sess_usable(s))
		return NULL;
	asoc_set_timeout(s->as, (unsigned)ms);
	Py_RETURN_NONE;
}

static PyObject *
Session_alloc(SessionObject *s, PyObject *arg)
{
	Py_ssize_t size = PyLong_AsSsize_t(arg);
	BufferObject *b;
	asoc_status_t st;
	asoc_buf_t *buf = NULL;
	char msg[256];

	if (size == -1 && PyErr_Occurred())
		return NULL;
	if (size <= 0) {
		PyErr_SetString(PyExc_ValueError, "a buffer needs at least one "
		    "byte");
		return NULL;
	}
	if (!sess_usable(s))
		return NULL;
	sess_lock(s);
	Py_BEGIN_ALLOW_THREADS
	st = asoc_buf_alloc(s->as, (size_t)size, &buf);
	Py_END_ALLOW_THREADS
	snprintf(msg, sizeof msg, "%s", asoc_last_error(s->as));
	sess_unlock(s);
	if (st != ASOC_OK)
		return raise_status(NULL, st, msg);
	if ((b = PyObject_New(BufferObject, &BufferType)) == NULL) {
		sess_lock(s);
		asoc_buf_free(buf);
		sess_unlock(s);
		return NULL;
	}
	Py_INCREF(s);
	b->sess = s;
	b->buf = buf;
	b->ptr = asoc_buf_ptr(buf);
	b->size = size;
	b->exports = 0;
	b->inflight = 0;
	b->weakrefs = NULL;
	s->live_bufs++;
	return (PyObject *)b;
}

static PyObject *
Session_stat(SessionObject *s, PyObject *unused)
{
	asoc_node_stat_t n;
	asoc_status_t st;
	char msg[256];

	(void)unused;
	if (!sess_usable(s))
		return NULL;
	sess_lock(s);
	Py_BEGIN_ALLOW_THREADS
	st = asoc_stat(s->as, &n, NULL, NULL);
	Py_END_ALLOW_THREADS
	snprintf(msg, sizeof msg, "%s", asoc_last_error(s->as));
	sess_unlock(s);
	if (st != ASOC_OK)
		return raise_status(NULL, st, msg);
	return Py_BuildValue("{s:i,s:i,s:I,s:I,s:K,s:K,s:K,s:K,s:K,s:K,"
	    "s:K,s:K,s:K,s:K,s:K,s:s}",
	    "rank", n.rank, "world", n.world, "clients", n.clients,
	    "peers_connected", n.peers_connected,
	    "xfers_active", (unsigned long long)n.xfers_active,
	    "unexpected", (unsigned long long)n.unexpected,
	    "posted_recvs", (unsigned long long)n.posted_recvs,
	    "bytes_sent", (unsigned long long)n.bytes_sent,
	    "bytes_received", (unsigned long long)n.bytes_received,
	    "buffers", (unsigned long long)n.buffers,
	    "buffer_bytes", (unsigned long long)n.buffer_bytes,
	    "registrations", (unsigned long long)n.registrations,
	    "deregistrations", (unsigned long long)n.deregistrations,
	    "xfers_done", (unsigned long long)n.xfers_done,
	    "xfers_failed", (unsigned long long)n.xfers_failed,
	    "transport", n.transport);
}

/* stat_ranks(): asoc_stat_ranks as a dict: mode ("none", "node" or
 * "proc"), proc_world, local_ranks and ranks, a list of dicts. */
static PyObject *
Session_stat_ranks(SessionObject *s, PyObject *unused)
{
	static const char *modes[] = { "none", "node", "proc" };
	asoc_rank_stat_t *r = NULL;
	asoc_ranks_stat_t m;
	PyObject *list, *d;
	asoc_status_t st;
	char msg[256];
	size_t n = 0, i;

	(void)unused;
	if (!sess_usable(s))
		return NULL;
	sess_lock(s);
	Py_BEGIN_ALLOW_THREADS
	st = asoc_stat_ranks(s->as, &m, &r, &n);
	Py_END_ALLOW_THREADS
	snprintf(msg, sizeof msg, "%s", asoc_last_error(s->as));
	sess_unlock(s);
	if (st != ASOC_OK)
		return raise_status(NULL, st, msg);
	if ((list = PyList_New((Py_ssize_t)n)) == NULL) {
		free(r);
		return NULL;
	}
	for (i = 0; i < n; i++) {
		d = Py_BuildValue("{s:i,s:i,s:l,s:i,s:I,s:I,s:K,s:K,s:K,s:K}",
		    "rank", r[i].rank, "world", r[i].world, "pid", r[i].pid,
		    "localid", r[i].localid, "sessions", r[i].sessions,
		    "incarnation", r[i].incarnation,
		    "posted_recvs", (unsigned long long)r[i].posted_recvs,
		    "unexpected", (unsigned long long)r[i].unexpected,
		    "bytes_sent", (unsigned long long)r[i].bytes_sent,
		    "bytes_received", (unsigned long long)r[i].bytes_received);
		if (d == NULL) {
			Py_DECREF(list);
			free(r);
			return NULL;
		}
		PyList_SET_ITEM(list, (Py_ssize_t)i, d);
	}
	free(r);
	return Py_BuildValue("{s:s,s:i,s:I,s:N}", "mode",
	    m.mode >= 0 && m.mode <= 2 ? modes[m.mode] : "none",
	    "proc_world", m.world, "local_ranks", m.local_ranks,
	    "ranks", list);
}

static int
check_range(BufferObject *b, Py_ssize_t off, Py_ssize_t len)
{
	if (b->buf == NULL) {
		PyErr_SetString(Error, "the buffer was freed");
		return 0;
	}
	if (off < 0 || len < 0 || off > b->size || len > b->size - off) {
		PyErr_Format(PyExc_ValueError, "%zd bytes at offset %zd do not "
		    "fit in the %zd-byte buffer", len, off, b->size);
		return 0;
	}
	return 1;
}

/* isend(buf, off, len, dst, tag) / irecv(buf, off, cap, src, tag, peek) */
static PyObject *
post(SessionObject *s, PyObject *args, int send)
{
	BufferObject *b;
	Py_ssize_t off, len;
	int rank, peek = 0;
	unsigned long long tag;
	RequestObject *r;
	asoc_status_t st;
	asoc_req_t *req = NULL;
	char msg[256];

	if (!PyArg_ParseTuple(args, send ? "O!nniK" : "O!nniK|p", &BufferType,
	    &b, &off, &len, &rank, &tag, &peek))
		return NULL;
	if (!sess_usable(s) || !check_range(b, off, len))
		return NULL;
	if (b->sess != s) {
		PyErr_SetString(PyExc_ValueError, "the buffer belongs to "
		    "another node");
		return NULL;
	}
	sess_lock(s);
	if (send)
		st = asoc_isend(s->as, b->buf, (size_t)off, (size_t)len, rank,
		    (uint64_t)tag, &req);
	else
		st = asoc_irecv_flags(s->as, b->buf, (size_t)off, (size_t)len,
		    rank, (uint64_t)tag, peek ? ASOC_RECV_PEEK : 0, &req);
	snprintf(msg, sizeof msg, "%s", asoc_last_error(s->as));
	sess_unlock(s);
	if (st != ASOC_OK)
		return raise_status(NULL, st, msg);
	if ((r = PyObject_New(RequestObject, &RequestType)) == NULL) {
		/* Cannot hand it out: cancel it and let it finish. */
		sess_lock(s);
		asoc_cancel(req);
		asoc_wait(req, NULL);
		sess_unlock(s);
		return NULL;
	}
	Py_INCREF(s);
	Py_INCREF(b);
	r->sess = s;
	r->buf = b;
	r->req = req;
	r->done = 0;
	r->msg[0] = '\0';
	memset(&r->c, 0, sizeof r->c);
	b->inflight++;
	return (PyObject *)r;
}

static PyObject *
Session_isend(SessionObject *s, PyObject *args)
{
	return post(s, args, 1);
}

static PyObject *
Session_irecv(SessionObject *s, PyObject *args)
{
	return post(s, args, 0);
}

static PyObject *
Session_bcast(SessionObject *s, PyObject *args)
{
	BufferObject *b;
	Py_ssize_t off, len;
	int root;
	unsigned long long tag;
	asoc_status_t st;
	char msg[256];

	if (!PyArg_ParseTuple(args, "O!nniK", &BufferType, &b, &off, &len,
	    &root, &tag))
		return NULL;
	if (!sess_usable(s) || !check_range(b, off, len))
		return NULL;
	sess_lock(s);
	b->inflight++;
	Py_BEGIN_ALLOW_THREADS
	st = asoc_bcast(s->as, b->buf, (size_t)off, (size_t)len, root,
	    (uint64_t)tag);
	Py_END_ALLOW_THREADS
	b->inflight--;
	snprintf(msg, sizeof msg, "%s", asoc_last_error(s->as));
	sess_unlock(s);
	if (st != ASOC_OK)
		return raise_status(NULL, st, msg);
	Py_RETURN_NONE;
}

static PyMethodDef Session_methods[] = {
	{ "close", (PyCFunction)Session_close, METH_NOARGS,
	  "Close the session (deferred while buffers are in use)." },
	{ "fileno", (PyCFunction)Session_fileno, METH_NOARGS,
	  "The socket to asocd, readable when a completion may be there." },
	{ "set_timeout", (PyCFunction)Session_set_timeout, METH_O,
	  "Deadline in ms for requests posted from now on; 0: none." },
	{ "alloc", (PyCFunction)Session_alloc, METH_O,
	  "A shared buffer of n bytes, registered with asocd." },
	{ "stat", (PyCFunction)Session_stat, METH_NOARGS,
	  "asocd's counters, as a dict." },
	{ "stat_ranks", (PyCFunction)Session_stat_ranks, METH_NOARGS,
	  "asocd's rank mode and its process ranks, as a dict." },
	{ "rank_nodes", (PyCFunction)Session_rank_nodes, METH_NOARGS,
	  "rank_nodes() -> the node of every rank (waits until all joined)" },
	{ "isend", (PyCFunction)Session_isend, METH_VARARGS,
	  "isend(buf, off, len, dst, tag) -> Request" },
	{ "irecv", (PyCFunction)Session_irecv, METH_VARARGS,
	  "irecv(buf, off, cap, src, tag, peek=False) -> Request" },
	{ "bcast", (PyCFunction)Session_bcast, METH_VARARGS,
	  "bcast(buf, off, len, root, tag): asoc_bcast, GIL released." },
	{ NULL, NULL, 0, NULL }
};

static PyGetSetDef Session_getset[] = {
	{ "rank", (getter)Session_get_rank, NULL, "this session's rank "
	  "(the process's in process mode)", NULL },
	{ "world_size", (getter)Session_get_world, NULL, "ranks in the job",
	  NULL },
	{ "node", (getter)Session_get_node, NULL, "the node (asocd) serving "
	  "this session", NULL },
	{ "nodes", (getter)Session_get_nodes, NULL, "the number of nodes",
	  NULL },
	{ "chunk_size", (getter)Session_get_chunk, NULL, "asocd's chunk size",
	  NULL },
	{ "socket_path", (getter)Session_get_path, NULL, "asocd's socket",
	  NULL },
	{ "closed", (getter)Session_get_closed, NULL, "close() was called",
	  NULL },
	{ NULL, NULL, NULL, NULL, NULL }
};

static PyTypeObject SessionType = {
	PyVarObject_HEAD_INIT(NULL, 0)
	.tp_name = "asoc._asoc.Session",
	.tp_basicsize = sizeof(SessionObject),
	.tp_flags = Py_TPFLAGS_DEFAULT,
	.tp_doc = "Session(path=None): one connection to asocd (libasoc).",
	.tp_new = Session_new,
	.tp_dealloc = (destructor)Session_dealloc,
	.tp_methods = Session_methods,
	.tp_getset = Session_getset,
};

/* --- Buffer --- */

static void
buffer_release_mem(BufferObject *b)
{
	SessionObject *s = b->sess;

	if (b->buf == NULL)
		return;
	if (s->as != NULL) {
		sess_lock(s);
		asoc_buf_free(b->buf);
		sess_unlock(s);
	}
	b->buf = NULL;
	b->ptr = NULL;
	s->live_bufs--;
	if (s->closed && s->live_bufs == 0 && s->as != NULL) {
		sess_lock(s);
		asoc_close(s->as);
		s->as = NULL;
		sess_unlock(s);
	}
}

static void
Buffer_dealloc(BufferObject *b)
{
	if (b->weakrefs != NULL)
		PyObject_ClearWeakRefs((PyObject *)b);
	buffer_release_mem(b);
	Py_XDECREF(b->sess);
	PyObject_Free(b);
}

static PyObject *
Buffer_free(BufferObject *b, PyObject *unused)
{
	(void)unused;
	if (b->exports > 0 || b->inflight > 0) {
		PyErr_SetString(PyExc_BufferError, "the buffer is still in use "
		    "(arrays or requests point into it)");
		return NULL;
	}
	buffer_release_mem(b);
	Py_RETURN_NONE;
}

static PyObject *
Buffer_get_size(BufferObject *b, void *c)
{
	(void)c;
	return PyLong_FromSsize_t(b->size);
}

static PyObject *
Buffer_get_address(BufferObject *b, void *c)
{
	(void)c;
	return PyLong_FromVoidPtr(b->ptr);
}

static PyObject *
Buffer_get_exports(BufferObject *b, void *c)
{
	(void)c;
	return PyLong_FromSsize_t(b->exports + b->inflight);
}

static int
Buffer_getbuffer(BufferObject *b, Py_buffer *view, int flags)
{
	if (b->buf == NULL) {
		PyErr_SetString(PyExc_BufferError, "the buffer was freed");
		view->obj = NULL;
		return -1;
	}
	if (PyBuffer_FillInfo(view, (PyObject *)b, b->ptr, b->size, 0,
	    flags) < 0)
		return -1;
	b->exports++;
	return 0;
}

static void
Buffer_releasebuffer(BufferObject *b, Py_buffer *view)
{
	(void)view;
	b->exports--;
}

static PyBufferProcs Buffer_as_buffer = {
	(getbufferproc)Buffer_getbuffer,
	(releasebufferproc)Buffer_releasebuffer,
};

static PyMethodDef Buffer_methods[] = {
	{ "free", (PyCFunction)Buffer_free, METH_NOARGS,
	  "Give the memory back to asocd now (refused while in use)." },
	{ NULL, NULL, 0, NULL }
};

static PyGetSetDef Buffer_getset[] = {
	{ "size", (getter)Buffer_get_size, NULL, "bytes", NULL },
	{ "address", (getter)Buffer_get_address, NULL, "where it is mapped",
	  NULL },
	{ "users", (getter)Buffer_get_exports, NULL,
	  "views and requests using it", NULL },
	{ NULL, NULL, NULL, NULL, NULL }
};

static PyTypeObject BufferType = {
	PyVarObject_HEAD_INIT(NULL, 0)
	.tp_name = "asoc._asoc.Buffer",
	.tp_basicsize = sizeof(BufferObject),
	.tp_weaklistoffset = offsetof(BufferObject, weakrefs),
	.tp_flags = Py_TPFLAGS_DEFAULT,
	.tp_doc = "Shared memory registered with asocd (buffer protocol).",
	.tp_dealloc = (destructor)Buffer_dealloc,
	.tp_as_buffer = &Buffer_as_buffer,
	.tp_methods = Buffer_methods,
	.tp_getset = Buffer_getset,
};

/* --- Request --- */

static void
req_finish(RequestObject *r, asoc_status_t st)
{
	r->done = 1;
	r->req = NULL;
	r->c.status = st;
	snprintf(r->msg, sizeof r->msg, "%s", asoc_last_error(r->sess->as));
	r->buf->inflight--;
}

/* One non-blocking look: 1 when done. */
static int
req_poll(RequestObject *r)
{
	asoc_status_t st;
	int done = 0;

	if (r->done)
		return 1;
	sess_lock(r->sess);
	/* Another thread may have finished r while we waited for the lock. */
	if (r->done) {
		sess_unlock(r->sess);
		return 1;
	}
	st = asoc_test(r->req, &done, &r->c);
	if (done)
		req_finish(r, st);
	sess_unlock(r->sess);
	return done;
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Cancels r and waits (GIL released) for its one completion. */
static void
req_cancel_wait(RequestObject *r)
{
	asoc_status_t st;

	if (r->done)
		return;
	sess_lock(r->sess);
	if (r->done) {		/* finished by another thread meanwhile */
		sess_unlock(r->sess);
		return;
	}
	asoc_cancel(r->req);
	Py_BEGIN_ALLOW_THREADS
	st = asoc_wait(r->req, &r->c);
	Py_END_ALLOW_THREADS
	req_finish(r, st);
	sess_unlock(r->sess);
}

/* 1: done; 0: timeout passed; -1: exception (a signal handler raised:
 * the request was cancelled). */
static int
req_wait(RequestObject *r, double timeout)
{
	double deadline = timeout >= 0 ? now_s() + timeout : 0;
	struct pollfd pfd;
	int ms;

	for (;;) {
		if (req_poll(r))
			return 1;
		ms = WAIT_SLICE_MS;
		if (timeout >= 0) {
			double left = deadline - now_s();

			if (left <= 0)
				return 0;
			if (left * 1000 < ms)
				ms = (int)(left * 1000) + 1;
		}
		pfd.fd = asoc_fd(r->sess->as);
		pfd.events = POLLIN;
		pfd.revents = 0;
		if (pfd.fd >= 0) {
			Py_BEGIN_ALLOW_THREADS
			poll(&pfd, 1, ms);
			Py_END_ALLOW_THREADS
		}
		if (PyErr_CheckSignals() < 0) {
			PyObject *et, *ev, *tb;

			PyErr_Fetch(&et, &ev, &tb);
			req_cancel_wait(r);
			PyErr_Restore(et, ev, tb);
			return -1;
		}
	}
}

static PyObject *
req_result(RequestObject *r)
{
	return Py_BuildValue("(inLKs)", (int)r->c.status,
	    (Py_ssize_t)r->c.len, (long long)r->c.source,
	    (unsigned long long)r->c.tag, r->msg);
}

static PyObject *
Request_test(RequestObject *r, PyObject *unused)
{
	(void)unused;
	if (!req_poll(r))
		Py_RETURN_NONE;
	return req_result(r);
}

static PyObject *
Request_wait(RequestObject *r, PyObject *args, PyObject *kw)
{
	static char *kwlist[] = { "timeout", NULL };
	PyObject *tobj = Py_None;
	double timeout = -1;
	int w;

	if (!PyArg_ParseTupleAndKeywords(args, kw, "|O", kwlist, &tobj))
		return NULL;
	if (tobj != Py_None) {
		timeout = PyFloat_AsDouble(tobj);
		if (timeout == -1 && PyErr_Occurred())
			return NULL;
		if (timeout < 0)
			timeout = 0;
	}
	if ((w = req_wait(r, timeout)) < 0)
		return NULL;
	if (w == 0)
		Py_RETURN_NONE;
	return req_result(r);
}

static PyObject *
Request_cancel(RequestObject *r, PyObject *unused)
{
	(void)unused;
	if (!r->done) {
		sess_lock(r->sess);
		if (!r->done)	/* again, under the lock */
			asoc_cancel(r->req);
		sess_unlock(r->sess);
	}
	Py_RETURN_NONE;
}

static PyObject *
Request_get_done(RequestObject *r, void *c)
{
	(void)c;
	return PyBool_FromLong(r->done);
}

static void
Request_dealloc(RequestObject *r)
{
	/* Dropped while in flight: it must still complete exactly once
	 * before its buffer may go. */
	if (!r->done && r->sess->as != NULL)
		req_cancel_wait(r);
	Py_XDECREF(r->buf);
	Py_XDECREF(r->sess);
	PyObject_Free(r);
}

static PyMethodDef Request_methods[] = {
	{ "test", (PyCFunction)Request_test, METH_NOARGS,
	  "(status, len, source, tag, message) when done, else None." },
	{ "wait", (PyCFunction)(void (*)(void))Request_wait,
	  METH_VARARGS | METH_KEYWORDS,
	  "wait(timeout=None): like test(), blocking (GIL released) up to "
	  "timeout seconds; Ctrl-C cancels the request." },
	{ "cancel", (PyCFunction)Request_cancel, METH_NOARGS,
	  "Ask asocd to give the request up; it still completes once." },
	{ NULL, NULL, 0, NULL }
};

static PyGetSetDef Request_getset[] = {
	{ "done", (getter)Request_get_done, NULL, "completed", NULL },
	{ NULL, NULL, NULL, NULL, NULL }
};

static PyTypeObject RequestType = {
	PyVarObject_HEAD_INIT(NULL, 0)
	.tp_name = "asoc._asoc.Request",
	.tp_basicsize = sizeof(RequestObject),
	.tp_flags = Py_TPFLAGS_DEFAULT,
	.tp_doc = "One posted send or receive (libasoc request).",
	.tp_dealloc = (destructor)Request_dealloc,
	.tp_methods = Request_methods,
	.tp_getset = Request_getset,
};

/* --- module --- */

static PyObject *
mod_strerror(PyObject *m, PyObject *arg)
{
	long st = PyLong_AsLong(arg);

	(void)m;
	if (st == -1 && PyErr_Occurred())
		return NULL;
	return PyUnicode_FromString(asoc_strerror((asoc_status_t)st));
}

static PyObject *
mod_raise(PyObject *m, PyObject *args)
{
	int st;
	const char *msg;

	(void)m;
	if (!PyArg_ParseTuple(args, "is", &st, &msg))
		return NULL;
	return raise_status(NULL, (asoc_status_t)st, msg);
}

static PyObject *
mod_copy(PyObject *m, PyObject *args)
{
	Py_buffer dst, src;
	Py_ssize_t off;

	(void)m;
	if (!PyArg_ParseTuple(args, "w*ny*", &dst, &off, &src))
		return NULL;
	if (off < 0 || off > dst.len || src.len > dst.len - off) {
		PyBuffer_Release(&dst);
		PyBuffer_Release(&src);
		PyErr_SetString(PyExc_ValueError, "copy out of bounds");
		return NULL;
	}
	Py_BEGIN_ALLOW_THREADS
	memcpy((char *)dst.buf + off, src.buf, (size_t)src.len);
	Py_END_ALLOW_THREADS
	PyBuffer_Release(&dst);
	PyBuffer_Release(&src);
	Py_RETURN_NONE;
}

static PyMethodDef mod_methods[] = {
	{ "strerror", mod_strerror, METH_O, "asoc_strerror" },
	{ "raise_status", mod_raise, METH_VARARGS,
	  "raise_status(status, message): raise the matching exception" },
	{ "copy_into", mod_copy, METH_VARARGS,
	  "copy_into(dst, off, src): one memcpy, GIL released" },
	{ NULL, NULL, 0, NULL }
};

static struct PyModuleDef moddef = {
	PyModuleDef_HEAD_INIT, "asoc._asoc",
	"libasoc for Python: sessions, shared buffers, requests.", -1,
	mod_methods, NULL, NULL, NULL, NULL
};

static int
add_exc(PyObject *m, PyObject **slot, const char *name, PyObject *base,
    const char *doc)
{
	char full[64];

	snprintf(full, sizeof full, "asoc.%s", name);
	*slot = PyErr_NewExceptionWithDoc(full, doc, base, NULL);
	if (*slot == NULL)
		return -1;
	Py_INCREF(*slot);
	return PyModule_AddObject(m, name, *slot);
}

PyMODINIT_FUNC PyInit__asoc(void);

PyMODINIT_FUNC
PyInit__asoc(void)
{
	PyObject *m;

	if (PyType_Ready(&SessionType) < 0 || PyType_Ready(&BufferType) < 0 ||
	    PyType_Ready(&RequestType) < 0)
		return NULL;
	if ((m = PyModule_Create(&moddef)) == NULL)
		return NULL;
	if (add_exc(m, &Error, "Error", PyExc_RuntimeError,
	    "An asocd or libasoc error; the message says what to do.") < 0 ||
	    add_exc(m, &PeerLost, "PeerLost", Error,
	    "The peer (or its asocd) went away, or no such rank.") < 0 ||
	    add_exc(m, &Truncated, "Truncated", Error,
	    "The message does not fit the receive.") < 0 ||
	    add_exc(m, &Timeout, "Timeout", Error,
	    "The request passed its deadline.") < 0 ||
	    add_exc(m, &NoDaemon, "NoDaemon", Error,
	    "asocd could not be reached.") < 0 ||
	    add_exc(m, &Cancelled, "Cancelled", Error,
	    "The request was cancelled.") < 0 ||
	    add_exc(m, &RankLeft, "RankLeft", PeerLost,
	    "The process rank left the job (its process exited).") < 0)
		return NULL;
	Py_INCREF(&SessionType);
	Py_INCREF(&BufferType);
	Py_INCREF(&RequestType);
	PyModule_AddObject(m, "Session", (PyObject *)&SessionType);
	PyModule_AddObject(m, "Buffer", (PyObject *)&BufferType);
	PyModule_AddObject(m, "Request", (PyObject *)&RequestType);
	PyModule_AddIntConstant(m, "OK", ASOC_OK);
	PyModule_AddIntConstant(m, "ETRUNC", ASOC_ETRUNC);
	PyModule_AddIntConstant(m, "ETIMEDOUT", ASOC_ETIMEDOUT);
	PyModule_AddIntConstant(m, "ECANCELLED", ASOC_ECANCELLED);
	PyModule_AddIntConstant(m, "ANY_SOURCE", ASOC_ANY_SOURCE);
	PyModule_AddIntConstant(m, "ELEFT", ASOC_ELEFT);
	PyModule_AddIntConstant(m, "RANK_AUTO", ASOC_RANK_AUTO);
	PyModule_AddIntConstant(m, "RANK_NODE", ASOC_RANK_NODE);
	return m;
}
