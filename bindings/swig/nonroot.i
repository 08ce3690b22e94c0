/*
 * nonroot.i: SWIG interface of libnonroot for Java (JNI) and Perl 5.
 *
 * Thin on purpose: it %includes the real public headers and adds typemaps only.
 *  - `nr_error *err` disappears from the target language's signature; a failure
 *    (err->code != 0) becomes an exception: Java org.libnonroot.NonrootException
 *    (code, line, column, source, message), Perl `die` with "SOURCE:LINE:COLUMN: MESSAGE".
 *  - `T **out` out-parameters become the return value (the int status is dropped), owned by
 *    the target language: NR_OBJECT(T, free) + NR_RETURNS_OUT(function, T).
 *  - Owned strings (`char *` from %newobject functions) are freed with nr_free.
 *  - Opaque handles get a destructor calling their *_free (Java: delete() / close(); no
 *    finalizers, Perl: DESTROY).
 * Idioms from libselinux's selinuxswig.i and libsolv's bindings/solv.i.
 */
#ifdef SWIGJAVA
/* Java: org.libnonroot.NonrootNative (functions), NonrootJNI; the facade is NonRoot. */
%module(jniclassname="NonrootJNI") NonrootNative
#else
/* Perl: package Nonroot (Nonroot.pm + auto/Nonroot/Nonroot.so), errors are Nonroot::Error */
%module Nonroot
#endif

%{
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <nonroot.h>

/* ---- strings set on struct fields from the target language -------------------------------
 * SWIG's default setter of a `const char *` field mallocs a copy and never frees it (a leak
 * per set). Here every such copy is recorded with the address of the field it was stored in:
 * setting the field again frees the previous copy, and the struct's destructor frees the
 * copies stored in it (nr_swig_release over its address range). Strings the library put in a
 * field (defaults of *_options_init, entries) are not recorded and never freed here. */
typedef struct { const char **field; char *copy; } nr_swig_str;
static nr_swig_str *nr_swig_strs;
static size_t nr_swig_nstrs, nr_swig_cap;
static pthread_mutex_t nr_swig_lock = PTHREAD_MUTEX_INITIALIZER;

static void nr_swig_forget(const char **field)
{
	size_t i;
	for (i = nr_swig_nstrs; i-- > 0;) {
		if (nr_swig_strs[i].field == field) {
			free(nr_swig_strs[i].copy);
			nr_swig_strs[i] = nr_swig_strs[--nr_swig_nstrs];
		}
	}
}

/* *field = a copy of value (NULL for NULL), owned by the struct; 0, or -1 out of memory. */
static int nr_swig_set_str(const char **field, const char *value)
{
	char *copy = NULL;
	int rc = 0;

	if (value != NULL) {
		size_t n = strlen(value) + 1;
		if ((copy = (char *)malloc(n)) == NULL)
			return -1;
		memcpy(copy, value, n);
	}
	pthread_mutex_lock(&nr_swig_lock);
	nr_swig_forget(field);
	if (copy != NULL && nr_swig_nstrs == nr_swig_cap) {
		size_t cap = nr_swig_cap ? nr_swig_cap * 2 : 64;
		nr_swig_str *grown = (nr_swig_str *)realloc(nr_swig_strs, cap * sizeof *grown);
		if (grown == NULL) {
			free(copy);
			copy = NULL;
			rc = -1;
		} else {
			nr_swig_strs = grown;
			nr_swig_cap = cap;
		}
	}
	if (copy != NULL)
		nr_swig_strs[nr_swig_nstrs++] = (nr_swig_str){ field, copy };
	*field = copy;
	pthread_mutex_unlock(&nr_swig_lock);
	return rc;
}

/* Free the copies stored in the fields of the object at [base, base + size). */
static void nr_swig_release(const void *base, size_t size)
{
	const char *lo = (const char *)base, *hi = lo + size;
	size_t i;

	pthread_mutex_lock(&nr_swig_lock);
	for (i = nr_swig_nstrs; i-- > 0;) {
		const char *f = (const char *)nr_swig_strs[i].field;
		if (f >= lo && f < hi) {
			free(nr_swig_strs[i].copy);
			nr_swig_strs[i] = nr_swig_strs[--nr_swig_nstrs];
		}
	}
	pthread_mutex_unlock(&nr_swig_lock);
}

/* ---- borrowed structs are copied out ------------------------------------------------------
 * nr_passwd_at(pw, i) and the like return a pointer into their owner; a target-language
 * object holding it would dangle once the owner is closed (a JVM crash, an invalid read in
 * Perl). These functions return an owned deep copy instead (its strings recorded as above),
 * freed by the copy's own destructor. */
#define NR_SWIG_DUP(T, FIELDS) \
static T *nr_swig_dup_##T(const T *src) \
{ \
	T *c; \
	int bad = 0; \
	if (src == NULL || (c = (T *)malloc(sizeof *c)) == NULL) \
		return NULL; \
	*c = *src; \
	FIELDS \
	if (bad) { \
		nr_swig_release(c, sizeof *c); \
		free(c); \
		return NULL; \
	} \
	return c; \
}
#define NR_SWIG_S(f) bad |= nr_swig_set_str(&c->f, src->f);

NR_SWIG_DUP(nr_pwent, NR_SWIG_S(name) NR_SWIG_S(passwd) NR_SWIG_S(gecos) NR_SWIG_S(dir)
	NR_SWIG_S(shell))
NR_SWIG_DUP(nr_spent, NR_SWIG_S(name) NR_SWIG_S(passwd) NR_SWIG_S(lastchg) NR_SWIG_S(min)
	NR_SWIG_S(max) NR_SWIG_S(warn) NR_SWIG_S(inact) NR_SWIG_S(expire) NR_SWIG_S(flag))
NR_SWIG_DUP(nr_sgent, NR_SWIG_S(name) NR_SWIG_S(passwd) NR_SWIG_S(admins) NR_SWIG_S(members))
NR_SWIG_DUP(nr_finding, NR_SWIG_S(id) NR_SWIG_S(platform) NR_SWIG_S(location)
	NR_SWIG_S(message) NR_SWIG_S(fix))
NR_SWIG_DUP(nr_patch_change, NR_SWIG_S(platform) NR_SWIG_S(what) NR_SWIG_S(target)
	NR_SWIG_S(before) NR_SWIG_S(after) NR_SWIG_S(why))
NR_SWIG_DUP(nr_descriptor, NR_SWIG_S(media_type) NR_SWIG_S(digest))
/* nr_binding.url is not NUL-terminated: url_len bytes (its nr_url spans are offsets into it) */
NR_SWIG_DUP(nr_binding, NR_SWIG_S(variable)
	c->url = NULL;
	if (src->url != NULL) {
		char *u = (char *)malloc(src->url_len + 1);
		if (u != NULL) {
			memcpy(u, src->url, src->url_len);
			u[src->url_len] = '\0';
		}
		bad |= nr_swig_set_str(&c->url, u) | (u == NULL);
		free(u);
	})

/* nr_grent: the member list too (an array of copies, NULL-terminated, freed with it) */
static nr_grent *nr_swig_dup_nr_grent(const nr_grent *src)
{
	nr_grent *c;
	const char **members = NULL;
	size_t i;
	int bad = 0;

	if (src == NULL || (c = (nr_grent *)malloc(sizeof *c)) == NULL)
		return NULL;
	*c = *src;
	c->members = NULL;
	NR_SWIG_S(name) NR_SWIG_S(passwd)
	if (src->nmembers > 0 &&
	    (members = (const char **)calloc(src->nmembers + 1, sizeof *members)) == NULL)
		bad = 1;
	for (i = 0; members != NULL && i < src->nmembers; i++)
		bad |= nr_swig_set_str(&members[i], src->members[i]);
	c->members = members;
	if (bad) {
		nr_swig_release(members, (src->nmembers + 1) * sizeof *members);
		free(members);
		nr_swig_release(c, sizeof *c);
		free(c);
		return NULL;
	}
	return c;
}

static void nr_swig_free_grent(nr_grent *g)
{
	if (g->members != NULL) {
		nr_swig_release(g->members, (g->nmembers + 1) * sizeof *g->members);
		free((void *)g->members);
	}
	nr_swig_release(g, sizeof *g);
	free(g);
}
%}

/* Setting a `const char *` field: a copy owned by the struct (see nr_swig_set_str). */
%typemap(memberin) const char * {
	(void)nr_swig_set_str(&$1, $input); /* out of memory: the field is NULL */
}

%include <stdint.i>
#ifdef SWIGJAVA
%include <enums.swg>
#endif

/* ---- Java: load the JNI library, no finalizers, AutoCloseable handles ---------------------- */
#ifdef SWIGJAVA
%pragma(java) jniclasscode=%{
	static {
		System.loadLibrary("nonroot_jni");
	}
%}
%typemap(javafinalize) SWIGTYPE ""

%{
static void nr_swig_throw(JNIEnv *jenv, const nr_error *e)
{
	jclass cls = (*jenv)->FindClass(jenv, "org/libnonroot/NonrootException");
	jmethodID ctor;
	jstring msg, src;
	jobject ex;

	if (cls == NULL)
		return; /* NoClassDefFoundError is pending */
	ctor = (*jenv)->GetMethodID(jenv, cls, "<init>", "(ILjava/lang/String;Ljava/lang/String;JJ)V");
	if (ctor == NULL)
		return;
	msg = (*jenv)->NewStringUTF(jenv, e->message[0] ? e->message : nr_strerror(e->code));
	src = (*jenv)->NewStringUTF(jenv, e->source);
	if (msg == NULL || src == NULL)
		return;
	ex = (*jenv)->NewObject(jenv, cls, ctor, (jint)e->code, msg, src, (jlong)e->line,
		(jlong)e->column);
	if (ex != NULL)
		(*jenv)->Throw(jenv, (jthrowable)ex);
}
%}
#endif

/* ---- nr_error *err: hidden; a failure becomes an exception -------------------------------- */
%typemap(in, numinputs=0) nr_error *err (nr_error errtmp) {
	nr_error_clear(&errtmp);
	$1 = &errtmp;
}
#ifdef SWIGJAVA
/* Throw, and let freearg typemaps still release their arguments; the JVM ignores the result. */
%typemap(argout) nr_error *err {
	if ($1->code != 0)
		nr_swig_throw(jenv, $1);
}
#endif
#ifdef SWIGPERL
/* Perl: die with a Nonroot::Error object (code, line, column, source, message; it stringifies
 * as "SOURCE:LINE:COLUMN: MESSAGE"). */
%{
static void nr_swig_perl_error(const nr_error *e)
{
	dTHX;
	char text[512];
	HV *hv = newHV();
	SV *rv;

	nr_error_format(e, text, sizeof text);
	(void)hv_stores(hv, "code", newSViv(e->code));
	(void)hv_stores(hv, "line", newSVuv((UV)e->line));
	(void)hv_stores(hv, "column", newSVuv((UV)e->column));
	(void)hv_stores(hv, "source", newSVpv(e->source, 0));
	(void)hv_stores(hv, "message", newSVpv(e->message[0] ? e->message : nr_strerror(e->code), 0));
	(void)hv_stores(hv, "text", newSVpv(text, 0));
	rv = newRV_noinc((SV *)hv);
	sv_bless(rv, gv_stashpv("Nonroot::Error", GV_ADD));
	sv_setsv(get_sv("@", GV_ADD), rv);
	SvREFCNT_dec(rv);
}
%}
%typemap(argout) nr_error *err {
	if ($1->code != 0) {
		nr_swig_perl_error($1);
		SWIG_fail;
	}
}
%include "nr_version.i"
%perlcode %{
package Nonroot::Error;
# The exception every Nonroot function dies with: code (an NR_E* value, negative), line and
# column (1-based, 0 when not applicable), source (file, field or digest), message; as a
# string "SOURCE:LINE:COLUMN: MESSAGE".
use overload '""' => sub { $_[0]->{text} }, fallback => 1;
sub code { $_[0]->{code} }
sub line { $_[0]->{line} }
sub column { $_[0]->{column} }
sub source { $_[0]->{source} }
sub message { $_[0]->{message} }
package Nonroot;
%}
#endif

/* The error struct itself stays C-side: exceptions carry its fields. */
/* reserved space in caller-allocated structs is not for callers */
%ignore reserved;
%ignore nr_error;
%ignore nr_error_clear;
%ignore nr_error_format;
%ignore NR_ERROR_INIT;
/* Memory is managed by the typemaps (newfree) and destructors. */
%ignore nr_free;

/* ---- owned strings ------------------------------------------------------------------------ */
%typemap(newfree) char * "nr_free($1);";

/* ---- (const char *BUF, size_t LEN) input pairs: one string argument -----------------------
 * NR_TEXT_INPUT(buf, len); NR_OBJECT(T, T_free): an opaque handle with its destructor and the
 * `T **out` out-parameter; NR_RETURNS_OUT(function, T): `int function(T **out, ...)` returns
 * the new T (owned) instead of the status. (SWIG evaluates no #ifdef inside %define, hence one
 * set of macros per language.) */
#ifdef SWIGJAVA
%define NR_TEXT_INPUT(BUF, LEN)
%typemap(jni) (const char *BUF, size_t LEN) "jstring"
%typemap(jtype) (const char *BUF, size_t LEN) "String"
%typemap(jstype) (const char *BUF, size_t LEN) "String"
%typemap(javain) (const char *BUF, size_t LEN) "$javainput"
%typemap(in) (const char *BUF, size_t LEN) {
	$1 = NULL;
	$2 = 0;
	if ($input) {
		$1 = ($1_ltype)(*jenv)->GetStringUTFChars(jenv, $input, 0);
		if ($1 == NULL)
			return $null;
		$2 = ($2_ltype)(*jenv)->GetStringUTFLength(jenv, $input);
	}
}
%typemap(freearg) (const char *BUF, size_t LEN) {
	if ($1)
		(*jenv)->ReleaseStringUTFChars(jenv, $input, (const char *)$1);
}
%enddef

%define NR_OBJECT(TYPE, FREE)
%typemap(javainterfaces) struct TYPE "AutoCloseable"
%typemap(javacode) struct TYPE %{
  /** Free the C object now (the same as delete()). */
  @Override
  public void close() {
    delete();
  }
%}
%nodefaultctor TYPE;
struct TYPE {};
%extend TYPE {
	~TYPE() { FREE($self); }
}
%ignore FREE;
%typemap(in, numinputs=0) TYPE **out (TYPE *outtmp = NULL) {
	$1 = &outtmp;
}
%typemap(argout) TYPE **out {
	*(TYPE **)&$result = *$1;
}
%enddef

%define NR_RETURNS_OUT(FUNC, TYPE)
%typemap(jni) int FUNC "jlong"
%typemap(jtype) int FUNC "long"
%typemap(jstype) int FUNC "TYPE"
%typemap(javaout) int FUNC {
    long cPtr = $jnicall;
    return (cPtr == 0) ? null : new TYPE(cPtr, true);
  }
%typemap(out) int FUNC ""
%enddef
#endif

#ifdef SWIGPERL
%define NR_TEXT_INPUT(BUF, LEN)
%typemap(in) (const char *BUF, size_t LEN) {
	STRLEN nr_len;
	$1 = ($1_ltype)SvPV($input, nr_len);
	$2 = ($2_ltype)nr_len;
}
%enddef

%define NR_OBJECT(TYPE, FREE)
%nodefaultctor TYPE;
struct TYPE {};
%extend TYPE {
	~TYPE() { FREE($self); }
}
%ignore FREE;
%typemap(in, numinputs=0) TYPE **out (TYPE *outtmp = NULL) {
	$1 = &outtmp;
}
%typemap(argout) TYPE **out {
	if (argvi >= items)
		EXTEND(sp, 1);
	$result = SWIG_NewPointerObj(*$1, $descriptor(TYPE *), SWIG_OWNER | SWIG_SHADOW);
	argvi++;
}
%enddef

%define NR_RETURNS_OUT(FUNC, TYPE)
%typemap(out) int FUNC ""
%enddef
#endif

/* ---- owned strings returned through (char **out, size_t *len) ---------------------------
 * NR_RETURNS_STRING(function): `int function(..., char **out, size_t *len, ...)` returns the
 * string (freed with nr_free) instead of the status. */
#ifdef SWIGJAVA
%typemap(in, numinputs=0) (char **out, size_t *len) (char *strtmp = NULL, size_t lentmp = 0) {
	$1 = &strtmp;
	$2 = &lentmp;
}
%typemap(argout) (char **out, size_t *len) {
	if (*$1) {
		$result = (*jenv)->NewStringUTF(jenv, *$1);
		nr_free(*$1);
	}
}
%typemap(in, numinputs=0) char **out (char *strtmp = NULL) {
	$1 = &strtmp;
}
%typemap(argout) char **out {
	if (*$1) {
		$result = (*jenv)->NewStringUTF(jenv, *$1);
		nr_free(*$1);
	}
}
%define NR_RETURNS_STRING(FUNC)
%typemap(jni) int FUNC "jstring"
%typemap(jtype) int FUNC "String"
%typemap(jstype) int FUNC "String"
%typemap(javaout) int FUNC {
    return $jnicall;
  }
%typemap(out) int FUNC ""
%enddef
#endif
#ifdef SWIGPERL
%typemap(in, numinputs=0) (char **out, size_t *len) (char *strtmp = NULL, size_t lentmp = 0) {
	$1 = &strtmp;
	$2 = &lentmp;
}
%typemap(argout) (char **out, size_t *len) {
	if (argvi >= items)
		EXTEND(sp, 1);
	if (*$1) {
		$result = sv_2mortal(newSVpvn(*$1, *$2));
		nr_free(*$1);
	} else {
		$result = &PL_sv_undef;
	}
	argvi++;
}
%typemap(in, numinputs=0) char **out (char *strtmp = NULL) {
	$1 = &strtmp;
}
%typemap(argout) char **out {
	if (argvi >= items)
		EXTEND(sp, 1);
	if (*$1) {
		$result = sv_2mortal(newSVpv(*$1, 0));
		nr_free(*$1);
	} else {
		$result = &PL_sv_undef;
	}
	argvi++;
}
%define NR_RETURNS_STRING(FUNC)
%typemap(out) int FUNC ""
%enddef
#endif
%apply (char **out, size_t *len) { (char **out, size_t *outlen) };

/* ---- NULL-terminated string arrays in (Java String[], Perl array reference) --------------- */
#ifdef SWIGJAVA
%typemap(jni) const char *const *envp "jobjectArray"
%typemap(jtype) const char *const *envp "String[]"
%typemap(jstype) const char *const *envp "String[]"
%typemap(javain) const char *const *envp "$javainput"
%typemap(in) const char *const *envp (jsize n = 0, char **arr = NULL) {
	jsize i;
	n = $input ? (*jenv)->GetArrayLength(jenv, $input) : 0;
	arr = (char **)calloc((size_t)n + 1, sizeof(char *));
	if (arr == NULL) {
		SWIG_JavaThrowException(jenv, SWIG_JavaOutOfMemoryError, "out of memory");
		return $null;
	}
	for (i = 0; i < n; i++) {
		jstring js = (jstring)(*jenv)->GetObjectArrayElement(jenv, $input, i);
		const char *c = js ? (*jenv)->GetStringUTFChars(jenv, js, 0) : NULL;
		size_t clen = c ? strlen(c) : 0;
		if ((arr[i] = (char *)malloc(clen + 1)) != NULL) {
			memcpy(arr[i], c ? c : "", clen);
			arr[i][clen] = '\0';
		}
		if (c)
			(*jenv)->ReleaseStringUTFChars(jenv, js, c);
		if (js)
			(*jenv)->DeleteLocalRef(jenv, js);
	}
	$1 = ($1_ltype)arr;
}
%typemap(freearg) const char *const *envp {
	jsize i;
	for (i = 0; arr$argnum && i < n$argnum; i++)
		free(arr$argnum[i]);
	free(arr$argnum);
}
#endif
#ifdef SWIGPERL
%typemap(in) const char *const *envp (const char **arr = NULL) {
	AV *av;
	SSize_t i, n;
	if (!SvROK($input) || SvTYPE(SvRV($input)) != SVt_PVAV)
		SWIG_croak("expected a reference to an array of NAME=VALUE strings");
	av = (AV *)SvRV($input);
	n = av_len(av) + 1;
	arr = (const char **)calloc((size_t)n + 1, sizeof(char *));
	if (arr == NULL)
		SWIG_croak("out of memory");
	for (i = 0; i < n; i++) {
		SV **e = av_fetch(av, i, 0);
		arr[i] = e ? SvPV_nolen(*e) : "";
	}
	$1 = ($1_ltype)arr;
}
%typemap(freearg) const char *const *envp "free((void *)arr$argnum);";
#endif

/* ---- scalar out-parameters: SWIG's OUTPUT (Java: a one-element array; Perl: returned) ----- */
%include <typemaps.i>
%apply unsigned int *OUTPUT { uint32_t *id, uint32_t *gid };
%apply long long *OUTPUT { int64_t *days };
/* nr_image_config()'s length: dropped, the Java/Perl string carries it */
%typemap(in, numinputs=0) size_t *len (size_t lentmp = 0) "$1 = &lentmp;";

/* ---- versioned options structs: the constructor calls *_options_init -------------------------- */
%define NR_CLOSEABLE(TYPE)
%typemap(javainterfaces) struct TYPE "AutoCloseable"
%typemap(javacode) struct TYPE %{
  /** Free the C struct now (the same as delete()). */
  @Override
  public void close() {
    delete();
  }
%}
%enddef

%define NR_OPTIONS(TYPE, INIT, VERSION)
NR_CLOSEABLE(TYPE)
%extend TYPE {
	TYPE() {
		TYPE *o = (TYPE *)calloc(1, sizeof(TYPE));
		if (o != NULL)
			INIT(o, VERSION);
		return o;
	}
	~TYPE() {
		nr_swig_release($self, sizeof *$self);
		free($self);
	}
}
%ignore INIT;
%enddef

/* ---- the public API, header by header --------------------------------------------------------
 * Left out on purpose (use C or Python for these):
 *  - nr_error_clear, nr_error_format, nr_free: errors are exceptions, memory is managed here;
 *  - the *_check functions (an array of nr_error out), nr_userspec_additional_gids (a uint32_t
 *    array out), nr_imgconfig_parse_port_key / _map_exposed / _map_healthcheck (uint16_t
 *    arrays and a borrowed out-string), nr_bindings_variable (borrowed out-string);
 *  - nr_image_scan and nr_scan_result_*, nr_blob_writer_* (request structs with string
 *    arrays and callbacks, binary blobs): nr_image_read_file covers reading a file;
 *  - callbacks (progress/payload fields) of the options structs. */

%ignore nr_passwd_check;
%ignore nr_group_check;
%ignore nr_shadow_check;
%ignore nr_gshadow_check;
%ignore nr_userspec_additional_gids;
%ignore nr_imgconfig_parse_port_key;
%ignore nr_imgconfig_map_exposed;
%ignore nr_imgconfig_map_healthcheck;
%ignore nr_bindings_variable;
%ignore nr_image_scan;
%ignore nr_scan_result_get;
%ignore nr_scan_result_count;
%ignore nr_scan_result_at;
%ignore nr_scan_result_setid_count;
%ignore nr_scan_result_setid_at;
%ignore nr_scan_result_free;
%ignore nr_scan_entry;
%ignore nr_scan_request;
%ignore nr_blob_writer_open;
%ignore nr_blob_writer_write;
%ignore nr_blob_writer_finish;
%ignore nr_blob_writer_free;
%ignore nr_patch_options::progress;
%ignore nr_patch_options::payload;
%ignore nr_audit_options::progress;
%ignore nr_audit_options::payload;
%ignore nr_portmap::entries;
%ignore nr_grent::members;
%ignore nr_exec_user::additional_gids;

/* Array fields: element accessors instead of raw pointers. */
%extend nr_grent {
	const char *member(size_t i) const { return i < $self->nmembers ? $self->members[i] : NULL; }
}
%extend nr_exec_user {
	nr_exec_user() { return (nr_exec_user *)calloc(1, sizeof(nr_exec_user)); }
	~nr_exec_user() { nr_exec_user_dispose($self); free($self); }
	uint32_t additional_gid(size_t i) const
	{
		return i < $self->n_additional_gids ? $self->additional_gids[i] : 0;
	}
}
%ignore nr_exec_user_dispose;
/* filled (and freed) by the library: read-only here */
%immutable nr_exec_user::home;
%immutable nr_exec_user::name;
/* static rule table: read-only */
%immutable nr_audit_rule::id;
%immutable nr_audit_rule::name;
%immutable nr_audit_rule::level;
%immutable nr_audit_rule::summary;
%immutable nr_audit_rule::help;

/* Structs handed out as copies (or made by their constructor): the destructor frees the
 * strings stored in them (nr_swig_release) and the struct. */
%define NR_OWNED_STRUCT(TYPE)
%extend TYPE {
	~TYPE() {
		nr_swig_release($self, sizeof *$self);
		free($self);
	}
}
%enddef
NR_OWNED_STRUCT(nr_pwent)
NR_OWNED_STRUCT(nr_spent)
NR_OWNED_STRUCT(nr_sgent)
NR_OWNED_STRUCT(nr_finding)
NR_OWNED_STRUCT(nr_patch_change)
NR_OWNED_STRUCT(nr_descriptor)
NR_OWNED_STRUCT(nr_binding)
%extend nr_grent {
	~nr_grent() { nr_swig_free_grent($self); }
}
NR_CLOSEABLE(nr_spent)
NR_CLOSEABLE(nr_sgent)
NR_CLOSEABLE(nr_finding)
NR_CLOSEABLE(nr_patch_change)
NR_CLOSEABLE(nr_descriptor)
NR_CLOSEABLE(nr_binding)

/* Functions returning a struct borrowed from its owner return an owned copy instead. */
%define NR_COPY_OUT(FUNC, TYPE)
%newobject FUNC;
%exception FUNC {
	$action
	result = (const TYPE *)nr_swig_dup_##TYPE(result);
}
%enddef
NR_COPY_OUT(nr_passwd_at, nr_pwent)
NR_COPY_OUT(nr_passwd_find_name, nr_pwent)
NR_COPY_OUT(nr_passwd_find_uid, nr_pwent)
NR_COPY_OUT(nr_group_at, nr_grent)
NR_COPY_OUT(nr_group_find_name, nr_grent)
NR_COPY_OUT(nr_group_find_gid, nr_grent)
NR_COPY_OUT(nr_shadow_at, nr_spent)
NR_COPY_OUT(nr_shadow_find_name, nr_spent)
NR_COPY_OUT(nr_gshadow_at, nr_sgent)
NR_COPY_OUT(nr_gshadow_find_name, nr_sgent)
NR_COPY_OUT(nr_audit_at, nr_finding)
NR_COPY_OUT(nr_patch_report_at, nr_patch_change)
NR_COPY_OUT(nr_image_config_descriptor, nr_descriptor)
NR_COPY_OUT(nr_image_layer_at, nr_descriptor)
NR_COPY_OUT(nr_bindings_at, nr_binding)
NR_CLOSEABLE(nr_exec_user)
NR_CLOSEABLE(nr_portmap)
NR_CLOSEABLE(nr_url)
NR_CLOSEABLE(nr_pwent)
NR_CLOSEABLE(nr_grent)
%extend nr_portmap {
	uint16_t from(size_t i) const { return i < $self->count ? $self->entries[i].from : 0; }
	uint16_t to(size_t i) const { return i < $self->count ? $self->entries[i].to : 0; }
}

/* Text inputs given with their length. */
NR_TEXT_INPUT(buf, len)
NR_TEXT_INPUT(json, len)
NR_TEXT_INPUT(s, len)
NR_TEXT_INPUT(name, len)
NR_TEXT_INPUT(value, len)
%apply (const char *buf, size_t len) { (const void *data, size_t len) };

/* Opaque handles and the functions that create them. */
NR_OBJECT(nr_passwd, nr_passwd_free)
NR_OBJECT(nr_group, nr_group_free)
NR_OBJECT(nr_shadow, nr_shadow_free)
NR_OBJECT(nr_gshadow, nr_gshadow_free)
NR_OBJECT(nr_bindings, nr_bindings_free)
NR_OBJECT(nr_imgconfig, nr_imgconfig_free)
NR_OBJECT(nr_image, nr_image_free)
NR_OBJECT(nr_audit, nr_audit_free)
NR_OBJECT(nr_patch_report, nr_patch_report_free)
NR_OBJECT(nr_rootfs, nr_rootfs_free)
NR_OBJECT(nr_bundle, nr_bundle_free)
NR_OBJECT(nr_bundle_report, nr_bundle_report_free)
%apply nr_bundle_report **out { nr_bundle_report **report };

NR_RETURNS_OUT(nr_passwd_parse, nr_passwd)
NR_RETURNS_OUT(nr_group_parse, nr_group)
NR_RETURNS_OUT(nr_shadow_parse, nr_shadow)
NR_RETURNS_OUT(nr_gshadow_parse, nr_gshadow)
NR_RETURNS_OUT(nr_bindings_from_env, nr_bindings)
NR_RETURNS_OUT(nr_imgconfig_parse, nr_imgconfig)
NR_RETURNS_OUT(nr_image_open, nr_image)
NR_RETURNS_OUT(nr_image_audit, nr_audit)
NR_RETURNS_OUT(nr_image_patch, nr_patch_report)
NR_RETURNS_OUT(nr_rootfs_open, nr_rootfs)
NR_RETURNS_OUT(nr_rootfs_open_ext, nr_rootfs)
NR_RETURNS_OUT(nr_bundle_open, nr_bundle)
NR_RETURNS_OUT(nr_bundle_parse, nr_bundle)
NR_RETURNS_OUT(nr_bundle_harden, nr_bundle_report)
NR_RETURNS_OUT(nr_bundle_harden_dir, nr_bundle_report)

NR_RETURNS_STRING(nr_passwd_serialize)
NR_RETURNS_STRING(nr_group_serialize)
NR_RETURNS_STRING(nr_shadow_serialize)
NR_RETURNS_STRING(nr_gshadow_serialize)
NR_RETURNS_STRING(nr_imgconfig_serialize)
NR_RETURNS_STRING(nr_imgconfig_healthcheck)
NR_RETURNS_STRING(nr_image_read_file)
NR_RETURNS_STRING(nr_urls_rewrite)
NR_RETURNS_STRING(nr_rootfs_read_file)
NR_RETURNS_STRING(nr_bundle_serialize)
NR_RETURNS_STRING(nr_bundle_report_to_json)
NR_RETURNS_STRING(nr_bundle_report_to_text)
NR_RETURNS_STRING(nr_bindings_to_json)
NR_RETURNS_STRING(nr_audit_to_json)
NR_RETURNS_STRING(nr_audit_to_sarif)
NR_RETURNS_STRING(nr_audit_to_text)
NR_RETURNS_STRING(nr_patch_report_to_json)

NR_OPTIONS(nr_urls_options, nr_urls_options_init, NR_URLS_OPTIONS_VERSION)
NR_OPTIONS(nr_userspec_options, nr_userspec_options_init, NR_USERSPEC_OPTIONS_VERSION)
NR_OPTIONS(nr_image_open_options, nr_image_open_options_init, NR_IMAGE_OPEN_OPTIONS_VERSION)
NR_OPTIONS(nr_image_write_options, nr_image_write_options_init, NR_IMAGE_WRITE_OPTIONS_VERSION)
NR_OPTIONS(nr_audit_options, nr_audit_options_init, NR_AUDIT_OPTIONS_VERSION)
NR_OPTIONS(nr_patch_options, nr_patch_options_init, NR_PATCH_OPTIONS_VERSION)
NR_OPTIONS(nr_rootfs_options, nr_rootfs_options_init, NR_ROOTFS_OPTIONS_VERSION)
NR_OPTIONS(nr_adduser_options, nr_adduser_options_init, NR_ADDUSER_OPTIONS_VERSION)
NR_CLOSEABLE(nr_adduser_result)
NR_OPTIONS(nr_bundle_harden_options, nr_bundle_harden_options_init,
	NR_BUNDLE_HARDEN_OPTIONS_VERSION)

/* `const char *` fields of the option and entry structs are set from the target language:
 * the memberin typemap above owns the copy (no leak), so SWIG's warning does not apply. */
#pragma SWIG nowarn=451

/* NR_ID_AUTO is UINT32_MAX, which SWIG cannot evaluate */
%constant unsigned int NR_ID_AUTO = 0xFFFFFFFFu;
%include "nonroot/common.h"
%include "nonroot/errors.h"
%include "nonroot/names.h"
%include "nonroot/group.h"
%include "nonroot/passwd.h"
%include "nonroot/shadow.h"
%include "nonroot/userspec.h"
%include "nonroot/rootfs.h"
%include "nonroot/urls.h"
%include "nonroot/imgconfig.h"
%include "nonroot/image.h"
%include "nonroot/audit.h"
%include "nonroot/patch.h"
%include "nonroot/bundle.h"
%include "nonroot/unpack.h"
