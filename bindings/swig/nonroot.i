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

/* ---- the public API -------------------------------------------------------------------------- */
%include "nonroot/common.h"
%include "nonroot/errors.h"
