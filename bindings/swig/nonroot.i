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
%module nonroot
#endif

%{
#include <nonroot.h>
%}

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
%typemap(argout) nr_error *err {
	if ($1->code != 0) {
		char nr_msg[512];
		nr_error_format($1, nr_msg, sizeof nr_msg);
		sv_setpv(get_sv("@", GV_ADD), nr_msg);
		SWIG_fail;
	}
}
#endif

/* The error struct itself stays C-side: exceptions carry its fields. */
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
	~TYPE() { free($self); }
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
%ignore nr_scan_result_entry;
%ignore nr_scan_result_setid_count;
%ignore nr_scan_result_setid;
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

NR_RETURNS_STRING(nr_passwd_write)
NR_RETURNS_STRING(nr_group_write)
NR_RETURNS_STRING(nr_shadow_write)
NR_RETURNS_STRING(nr_gshadow_write)
NR_RETURNS_STRING(nr_imgconfig_serialize)
NR_RETURNS_STRING(nr_imgconfig_healthcheck)
NR_RETURNS_STRING(nr_image_read_file)
NR_RETURNS_STRING(nr_urls_rewrite)
NR_RETURNS_STRING(nr_rootfs_read_file)
NR_RETURNS_STRING(nr_bundle_dump)
NR_RETURNS_STRING(nr_bundle_report_json)
NR_RETURNS_STRING(nr_bundle_report_text)

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
 * SWIG copies the string with malloc (freed never: a few bytes per set, accepted). */
#pragma SWIG nowarn=451

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
