/*
 * soundy.analysis._kernels: the inner loops of the loudness and true-peak meters, in C.
 *
 * Plain CPython C API and the buffer protocol (no numpy headers, so it builds with gcc and
 * the Python headers alone). Every computation is in double precision; float32 input is
 * widened sample by sample, exactly as numpy's astype(float64) would. The GIL is released
 * around each loop. The Python side (loudness.py, peaks.py) validates shapes and owns all
 * state; these functions check only what would make them read or write out of bounds.
 *
 * kweight_energies: the K-weighting filter of ITU-R BS.1770-4 Annex 1 as one 4th-order
 *   direct-form-II-transposed pass with carried state, the very recurrence (and operation
 *   order) of scipy.signal.lfilter, plus the sum of squares per channel per fine block.
 * segment_scan: max |x| and max |x[i] - 2 x[i+1] + x[i+2]| per channel per segment (the
 *   true-peak meter's bounds, BS.1770-4 Annex 2 shortcut described in peaks.py).
 * interpolated_peaks: polyphase FIR interpolation of whole segments, max |y| per segment.
 * stereo_sums: per-hop sums of L, R, their squares and products (the stereo meter).
 * power_spectrum: |X|^2 of a complex64 spectrum, written or added (the STFT of the spectrum).
 * mix_decimate: the onset envelope's input, the channels' mean decimated by block means.
 * pcm_to_float: little-endian 16/24/32-bit integer PCM to float32, libsndfile's scaling (the
 *   WAV reader's fast path).
 * limiter_release, limiter_apply: Spotify Loud's limiter (playback.py), the release envelope
 *   forwards and the look-ahead attack backwards, with the reduction applied and counted.
 * true_peak_max: the largest true peak of a stretch of interleaved frames (the limited output
 *   of the second pass: only its maximum is reported), with the segment bounds of peaks.py.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#define MAX_ORDER 8

/* An AVX2 build of the vectorisable loops beside the baseline one, picked at load time (GCC
 * and clang on x86-64 Linux). Same operations in the same order: no FMA is enabled (and
 * contraction is off, -ffp-contract=off in setup.py), so both give identical results. */
#if defined(__x86_64__) && defined(__linux__) && defined(__GNUC__) && \
    (defined(__clang__) || __GNUC__ >= 6)
#define MULTIVERSION __attribute__((target_clones("avx2", "default")))
#else
#define MULTIVERSION
#endif

/* ------------------------------------------------------------------ buffers */

typedef struct {
    Py_buffer view;
    int held;
} Buf;

static void buf_release(Buf *b) {
    if (b->held) {
        PyBuffer_Release(&b->view);
        b->held = 0;
    }
}

/* Kind of a float buffer: 'f' (float32), 'd' (float64) or 0 (anything else). */
static char float_kind(const Py_buffer *v) {
    const char *f = v->format ? v->format : "B";
    if (f[0] == '<' || f[0] == '=' || f[0] == '@') f++;
    if (f[0] == 'f' && f[1] == 0 && v->itemsize == 4) return 'f';
    if (f[0] == 'd' && f[1] == 0 && v->itemsize == 8) return 'd';
    return 0;
}

static int is_int64(const Py_buffer *v) {
    const char *f = v->format ? v->format : "B";
    if (f[0] == '<' || f[0] == '=' || f[0] == '@') f++;
    return (f[0] == 'l' || f[0] == 'q') && f[1] == 0 && v->itemsize == 8;
}

/* A C-contiguous buffer of ``kind`` ('d' float64, 'f' float32) with ``count`` elements
 * (count < 0: any). */
static int get_floats_of(PyObject *obj, Buf *b, char kind, Py_ssize_t count, int writable,
                         const char *name) {
    int flags = PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | (writable ? PyBUF_WRITABLE : 0);
    if (PyObject_GetBuffer(obj, &b->view, flags) < 0) return -1;
    b->held = 1;
    if (float_kind(&b->view) != kind) {
        PyErr_Format(PyExc_TypeError, "%s must be %s", name, kind == 'd' ? "float64" : "float32");
        return -1;
    }
    if (count >= 0 && b->view.len / b->view.itemsize != count) {
        PyErr_Format(PyExc_ValueError, "%s must have %zd elements, not %zd", name, count,
                     b->view.len / b->view.itemsize);
        return -1;
    }
    return 0;
}

static int get_doubles(PyObject *obj, Buf *b, Py_ssize_t count, int writable, const char *name) {
    return get_floats_of(obj, b, 'd', count, writable, name);
}

static int get_floats(PyObject *obj, Buf *b, Py_ssize_t count, int writable, const char *name) {
    return get_floats_of(obj, b, 'f', count, writable, name);
}

/* Frames: a C-contiguous 2-D float32/float64 buffer (n, channels); its kind in ``kind``. */
static int get_frames(PyObject *obj, Buf *b, char *kind) {
    if (PyObject_GetBuffer(obj, &b->view, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0) return -1;
    b->held = 1;
    *kind = float_kind(&b->view);
    if (!*kind || b->view.ndim != 2) {
        PyErr_SetString(PyExc_TypeError, "frames must be 2-D float32 or float64");
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------ K-weighting */

/* Two channels at once: two independent recursions keep the FPU busy (one alone waits on
 * its own latency). Same operations, in the same order, as the one-channel loop below. */
#define KWEIGHT_PAIR_LOOP(T)                                                               \
    for (; c + 1 < channels && order == 4; c += 2) {                                      \
        const T *x = (const T *)src + c;                                                   \
        double *zl = zi + c * 4, *zr = zi + (c + 1) * 4;                                   \
        double l0 = zl[0], l1 = zl[1], l2 = zl[2], l3 = zl[3];                             \
        double r0 = zr[0], r1 = zr[1], r2 = zr[2], r3 = zr[3];                             \
        double accl = partial[c], accr = partial[c + 1];                                   \
        Py_ssize_t count = partial_frames, row = 0;                                        \
        double *w = weighted ? weighted + c : NULL;                                        \
        const int st = stereo_hop > 0 && c == 0;                                           \
        double s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;             \
        if (st) {                                                                          \
            s0 = spartial[0]; s1 = spartial[1]; s2 = spartial[2]; s3 = spartial[3];        \
            s4 = spartial[4]; s5 = spartial[5]; s6 = spartial[6]; s7 = spartial[7];        \
        }                                                                                  \
        for (Py_ssize_t k = 0; k < n; k++) {                                               \
            const double xl = (double)x[k * channels], xr = (double)x[k * channels + 1];   \
            const double yl = l0 + b[0] * xl, yr = r0 + b[0] * xr;                         \
            if (st) {                                                                      \
                s0 += xl; s1 += xr; s2 += xl * xl; s3 += xr * xr; s4 += xl * xr;           \
                s5 += yl * yl; s6 += yr * yr; s7 += yl * yr;                               \
                if (++scount == stereo_hop) {                                              \
                    double *o = sout + srows * 8;                                          \
                    o[0] = s0; o[1] = s1; o[2] = s2; o[3] = s3;                            \
                    o[4] = s4; o[5] = s5; o[6] = s6; o[7] = s7;                            \
                    srows++;                                                               \
                    s0 = s1 = s2 = s3 = s4 = s5 = s6 = s7 = 0.0;                           \
                    scount = 0;                                                            \
                }                                                                          \
            }                                                                              \
            l0 = l1 + xl * b[1] - yl * a[1];                                               \
            r0 = r1 + xr * b[1] - yr * a[1];                                               \
            l1 = l2 + xl * b[2] - yl * a[2];                                               \
            r1 = r2 + xr * b[2] - yr * a[2];                                               \
            l2 = l3 + xl * b[3] - yl * a[3];                                               \
            r2 = r3 + xr * b[3] - yr * a[3];                                               \
            l3 = xl * b[4] - yl * a[4];                                                    \
            r3 = xr * b[4] - yr * a[4];                                                    \
            if (w) {                                                                       \
                w[k * channels] = yl;                                                      \
                w[k * channels + 1] = yr;                                                  \
            }                                                                              \
            accl += yl * yl;                                                               \
            accr += yr * yr;                                                               \
            if (++count == fine) {                                                         \
                fines[row * channels + c] = accl;                                          \
                fines[row * channels + c + 1] = accr;                                      \
                row++;                                                                     \
                accl = accr = 0.0;                                                         \
                count = 0;                                                                 \
            }                                                                              \
        }                                                                                  \
        if (st) {                                                                          \
            spartial[0] = s0; spartial[1] = s1; spartial[2] = s2; spartial[3] = s3;        \
            spartial[4] = s4; spartial[5] = s5; spartial[6] = s6; spartial[7] = s7;        \
        }                                                                                  \
        zl[0] = l0; zl[1] = l1; zl[2] = l2; zl[3] = l3;                                    \
        zr[0] = r0; zr[1] = r1; zr[2] = r2; zr[3] = r3;                                    \
        partial[c] = accl;                                                                 \
        partial[c + 1] = accr;                                                             \
    }

#define KWEIGHT_LOOP(T)                                                                    \
    Py_ssize_t c = 0;                                                                      \
    KWEIGHT_PAIR_LOOP(T)                                                                   \
    for (; c < channels; c++) {                                                            \
        const T *x = (const T *)src + c;                                                   \
        double z[MAX_ORDER];                                                               \
        memcpy(z, zi + c * order, order * sizeof(double));                                 \
        double acc = partial[c];                                                           \
        Py_ssize_t count = partial_frames, row = 0;                                        \
        double *w = weighted ? weighted + c : NULL;                                        \
        if (order == 4) {                                                                  \
            double z0 = z[0], z1 = z[1], z2 = z[2], z3 = z[3];                             \
            for (Py_ssize_t k = 0; k < n; k++) {                                           \
                const double xn = (double)x[k * channels];                                 \
                const double yn = z0 + b[0] * xn;                                          \
                z0 = z1 + xn * b[1] - yn * a[1];                                           \
                z1 = z2 + xn * b[2] - yn * a[2];                                           \
                z2 = z3 + xn * b[3] - yn * a[3];                                           \
                z3 = xn * b[4] - yn * a[4];                                                \
                if (w) w[k * channels] = yn;                                               \
                acc += yn * yn;                                                            \
                if (++count == fine) {                                                     \
                    fines[row * channels + c] = acc;                                       \
                    row++;                                                                 \
                    acc = 0.0;                                                             \
                    count = 0;                                                             \
                }                                                                          \
            }                                                                              \
            z[0] = z0; z[1] = z1; z[2] = z2; z[3] = z3;                                    \
        } else {                                                                           \
            for (Py_ssize_t k = 0; k < n; k++) {                                           \
                const double xn = (double)x[k * channels];                                 \
                const double yn = z[0] + b[0] * xn;                                        \
                for (Py_ssize_t j = 0; j < order - 1; j++)                                 \
                    z[j] = z[j + 1] + xn * b[j + 1] - yn * a[j + 1];                       \
                z[order - 1] = xn * b[order] - yn * a[order];                              \
                if (w) w[k * channels] = yn;                                               \
                acc += yn * yn;                                                            \
                if (++count == fine) {                                                     \
                    fines[row * channels + c] = acc;                                       \
                    row++;                                                                 \
                    acc = 0.0;                                                             \
                    count = 0;                                                             \
                }                                                                          \
            }                                                                              \
        }                                                                                  \
        memcpy(zi + c * order, z, order * sizeof(double));                                 \
        partial[c] = acc;                                                                  \
    }

PyDoc_STRVAR(kweight_energies_doc,
"kweight_energies(frames, b, a, zi, partial, partial_frames, fine_frames, fines, weighted)\n"
"\n"
"Filter ``frames`` (C-contiguous float32/float64, shape (n, channels)) channel by channel\n"
"with the IIR filter ``(b, a)`` (float64, equal lengths <= 9, a[0] == 1) in direct form II\n"
"transposed, the recurrence of scipy.signal.lfilter, starting from ``zi`` (float64,\n"
"(channels, order), updated in place). Sums of squares of the output go to fine blocks of\n"
"``fine_frames`` frames: ``partial`` (float64, (channels,), updated) holds the unfinished\n"
"block, which already has ``partial_frames`` frames; each block completed here is written\n"
"as a row of ``fines`` (float64, (rows, channels), rows >= (partial_frames + n) //\n"
"fine_frames). ``weighted``: None, or float64 (n, channels) to receive the filtered\n"
"samples. Returns (completed rows, frames in the unfinished block). Double precision.");

static PyObject *kweight_common(PyObject *args, int with_stereo) {
    PyObject *o_frames, *o_b, *o_a, *o_zi, *o_partial, *o_fines, *o_weighted;
    PyObject *o_spartial = NULL, *o_sout = NULL;
    Py_ssize_t partial_frames, fine, stereo_hop = 0, scount = 0;
    if (with_stereo) {
        if (!PyArg_ParseTuple(args, "OOOOOnnOnOnO", &o_frames, &o_b, &o_a, &o_zi, &o_partial,
                              &partial_frames, &fine, &o_fines, &stereo_hop, &o_spartial,
                              &scount, &o_sout))
            return NULL;
        o_weighted = Py_None;
    } else if (!PyArg_ParseTuple(args, "OOOOOnnOO", &o_frames, &o_b, &o_a, &o_zi, &o_partial,
                                 &partial_frames, &fine, &o_fines, &o_weighted)) {
        return NULL;
    }
    Buf fr = {0}, bb = {0}, ab = {0}, zb = {0}, pb = {0}, fb = {0}, wb = {0}, sp = {0}, so = {0};
    PyObject *result = NULL;
    char kind;
    if (get_frames(o_frames, &fr, &kind) < 0) goto done;
    const Py_ssize_t n = fr.view.shape[0], channels = fr.view.shape[1];
    if (get_doubles(o_b, &bb, -1, 0, "b") < 0 || get_doubles(o_a, &ab, bb.view.len / 8, 0, "a") < 0)
        goto done;
    const Py_ssize_t order = bb.view.len / 8 - 1;
    if (order < 1 || order > MAX_ORDER || ((const double *)ab.view.buf)[0] != 1.0) {
        PyErr_SetString(PyExc_ValueError, "need 2 to 9 coefficients and a[0] == 1");
        goto done;
    }
    if (fine < 1 || partial_frames < 0 || partial_frames >= fine) {
        PyErr_SetString(PyExc_ValueError, "need 0 <= partial_frames < fine_frames");
        goto done;
    }
    const Py_ssize_t need_rows = (partial_frames + n) / fine;
    if (get_doubles(o_zi, &zb, channels * order, 1, "zi") < 0 ||
        get_doubles(o_partial, &pb, channels, 1, "partial") < 0 ||
        get_doubles(o_fines, &fb, -1, 1, "fines") < 0)
        goto done;
    if (fb.view.len / 8 < need_rows * channels) {
        PyErr_SetString(PyExc_ValueError, "fines has too few rows");
        goto done;
    }
    if (o_weighted != Py_None && get_doubles(o_weighted, &wb, n * channels, 1, "weighted") < 0)
        goto done;
    if (with_stereo) {
        if (channels < 2 || order != 4) {
            PyErr_SetString(PyExc_ValueError, "stereo sums need 2+ channels and order 4");
            goto done;
        }
        if (stereo_hop < 1 || scount < 0 || scount >= stereo_hop) {
            PyErr_SetString(PyExc_ValueError, "need 0 <= stereo_partial_frames < stereo_hop");
            goto done;
        }
        if (get_doubles(o_spartial, &sp, 8, 1, "stereo_partial") < 0 ||
            get_doubles(o_sout, &so, -1, 1, "stereo_out") < 0)
            goto done;
        if (so.view.len / 8 < ((scount + n) / stereo_hop) * 8) {
            PyErr_SetString(PyExc_ValueError, "stereo_out has too few rows");
            goto done;
        }
    }
    {
        const void *src = fr.view.buf;
        const double *b = bb.view.buf, *a = ab.view.buf;
        double *zi = zb.view.buf, *partial = pb.view.buf, *fines = fb.view.buf;
        double *weighted = wb.held ? wb.view.buf : NULL;
        double *spartial = sp.held ? sp.view.buf : NULL, *sout = so.held ? so.view.buf : NULL;
        Py_ssize_t rows = need_rows, srows = 0;
        Py_BEGIN_ALLOW_THREADS
        if (kind == 'f') {
            KWEIGHT_LOOP(float)
        } else {
            KWEIGHT_LOOP(double)
        }
        Py_END_ALLOW_THREADS
        if (with_stereo)
            result = Py_BuildValue("nnnn", rows, (partial_frames + n) % fine, srows, scount);
        else
            result = Py_BuildValue("nn", rows, (partial_frames + n) % fine);
    }
done:
    buf_release(&fr); buf_release(&bb); buf_release(&ab); buf_release(&zb);
    buf_release(&pb); buf_release(&fb); buf_release(&wb); buf_release(&sp); buf_release(&so);
    return result;
}

static PyObject *kweight_energies(PyObject *self, PyObject *args) {
    return kweight_common(args, 0);
}

PyDoc_STRVAR(kweight_energies_stereo_doc,
"kweight_energies_stereo(frames, b, a, zi, partial, partial_frames, fine_frames, fines,\n"
"                        stereo_hop, stereo_partial, stereo_partial_frames, stereo_out)\n"
"\n"
"``kweight_energies`` (no filtered samples kept; ``frames`` with 2+ channels, order 4) plus,\n"
"in the same pass, the per-hop sums of ``stereo_sums`` for the first two channels: L, R,\n"
"L*L, R*R, L*R of the input and Lw*Lw, Rw*Rw, Lw*Rw of the K-weighted output, on hops of\n"
"``stereo_hop`` frames; ``stereo_partial`` (float64 (8,), updated) holds the unfinished hop of\n"
"``stereo_partial_frames`` frames, completed hops are rows of ``stereo_out`` (float64,\n"
"(rows, 8)). Returns (fine rows, frames in the unfinished fine block, stereo rows, frames\n"
"in the unfinished hop). Sequential double-precision sums, as ``stereo_sums``.");

static PyObject *kweight_energies_stereo(PyObject *self, PyObject *args) {
    return kweight_common(args, 1);
}

/* ------------------------------------------------------------- true peak */

/* A 2-D float buffer (rows, n) whose rows may be strided but whose elements are adjacent. */
static int get_rows(PyObject *obj, Buf *b, char *kind) {
    if (PyObject_GetBuffer(obj, &b->view, PyBUF_STRIDES | PyBUF_FORMAT) < 0) return -1;
    b->held = 1;
    *kind = float_kind(&b->view);
    if (!*kind || b->view.ndim != 2 || b->view.strides[1] != b->view.itemsize ||
        b->view.strides[0] < 0) {
        PyErr_SetString(PyExc_TypeError,
                        "samples must be 2-D float32/float64 with contiguous rows");
        return -1;
    }
    return 0;
}

/* Eight independent lanes per segment (the compiler vectorises them; one running maximum
 * alone would wait on its own latency). Maxima are exact whatever the order. */
#define LANES 8
#define DEFINE_SCAN(NAME, T)                                                               \
    MULTIVERSION static int NAME(const T *p, Py_ssize_t seg, int with_d2, double *m_out,    \
                                 double *d_out) {                                          \
        double m[LANES] = {0}, d[LANES] = {0};                                             \
        int ok[LANES];                                                                     \
        for (int j = 0; j < LANES; j++) ok[j] = 1;                                         \
        Py_ssize_t i = 0;                                                                  \
        if (with_d2) {                                                                     \
            for (; i + LANES <= seg; i += LANES)                                           \
                for (int j = 0; j < LANES; j++) {                                          \
                    const double x0 = p[i + j], x1 = p[i + j + 1], x2 = p[i + j + 2];      \
                    const double v = fabs(x0), e = fabs(x0 - 2.0 * x1 + x2);               \
                    ok[j] &= v <= DBL_MAX; /* false for NaN and infinity */                \
                    m[j] = v > m[j] ? v : m[j];                                            \
                    d[j] = e > d[j] ? e : d[j];                                            \
                }                                                                          \
            for (; i < seg; i++) {                                                         \
                const double x0 = p[i], x1 = p[i + 1], x2 = p[i + 2];                      \
                const double v = fabs(x0), e = fabs(x0 - 2.0 * x1 + x2);                   \
                ok[0] &= v <= DBL_MAX;                                                     \
                m[0] = v > m[0] ? v : m[0];                                                \
                d[0] = e > d[0] ? e : d[0];                                                \
            }                                                                              \
        } else {                                                                           \
            for (; i + LANES <= seg; i += LANES)                                           \
                for (int j = 0; j < LANES; j++) {                                          \
                    const double v = fabs((double)p[i + j]);                               \
                    ok[j] &= v <= DBL_MAX;                                                 \
                    m[j] = v > m[j] ? v : m[j];                                            \
                }                                                                          \
            for (; i < seg; i++) {                                                         \
                const double v = fabs((double)p[i]);                                       \
                ok[0] &= v <= DBL_MAX;                                                     \
                m[0] = v > m[0] ? v : m[0];                                                \
            }                                                                              \
        }                                                                                  \
        double mm = 0.0, dd = 0.0;                                                         \
        int good = 1;                                                                      \
        for (int j = 0; j < LANES; j++) {                                                  \
            mm = m[j] > mm ? m[j] : mm;                                                    \
            dd = d[j] > dd ? d[j] : dd;                                                    \
            good &= ok[j];                                                                 \
        }                                                                                  \
        *m_out = mm;                                                                       \
        *d_out = dd;                                                                       \
        return good;                                                                       \
    }

DEFINE_SCAN(scan_float, float)
DEFINE_SCAN(scan_double, double)

#define SCAN_LOOP(T, FN)                                                                   \
    for (Py_ssize_t c = 0; c < channels && finite; c++) {                                 \
        const T *x = (const T *)(base + c * row_stride);                                   \
        for (Py_ssize_t s = 0; s < nseg; s++) {                                            \
            double m, d;                                                                   \
            if (!FN(x + s * seg, seg, d2_out != NULL, &m, &d)) {                           \
                finite = 0;                                                                \
                break;                                                                     \
            }                                                                              \
            max_out[c * nseg + s] = m;                                                     \
            if (d2_out) d2_out[c * nseg + s] = d;                                          \
        }                                                                                  \
    }

PyDoc_STRVAR(segment_scan_doc,
"segment_scan(samples, nseg, seg, max_out, d2_out) -> bool\n"
"\n"
"For ``samples`` of shape (channels, n) (float32/float64, rows contiguous) and each of the\n"
"``nseg`` segments of ``seg`` samples from index 0 of every row: ``max_out[c, s]`` = max\n"
"|x| over the segment, and unless ``d2_out`` is None, ``d2_out[c, s]`` = max |x[i] -\n"
"2 x[i+1] + x[i+2]| over its indices i (needs n >= nseg * seg + 2). Both float64 (channels,\n"
"nseg), in double precision. Returns False if a sample is NaN or infinite (outputs then\n"
"incomplete).");

static PyObject *segment_scan(PyObject *self, PyObject *args) {
    PyObject *o_samples, *o_max, *o_d2;
    Py_ssize_t nseg, seg;
    if (!PyArg_ParseTuple(args, "OnnOO", &o_samples, &nseg, &seg, &o_max, &o_d2)) return NULL;
    Buf sb = {0}, mb = {0}, db = {0};
    PyObject *result = NULL;
    char kind;
    if (get_rows(o_samples, &sb, &kind) < 0) goto done;
    const Py_ssize_t channels = sb.view.shape[0], n = sb.view.shape[1];
    if (seg < 1 || nseg < 0 || nseg * seg + (o_d2 != Py_None ? 2 : 0) > n) {
        PyErr_SetString(PyExc_ValueError, "segments run past the samples");
        goto done;
    }
    if (get_doubles(o_max, &mb, channels * nseg, 1, "max_out") < 0) goto done;
    if (o_d2 != Py_None && get_doubles(o_d2, &db, channels * nseg, 1, "d2_out") < 0) goto done;
    {
        const char *base = sb.view.buf;
        const Py_ssize_t row_stride = sb.view.strides[0];
        double *max_out = mb.view.buf, *d2_out = db.held ? db.view.buf : NULL;
        int finite = 1;
        Py_BEGIN_ALLOW_THREADS
        if (kind == 'f') {
            SCAN_LOOP(float, scan_float)
        } else {
            SCAN_LOOP(double, scan_double)
        }
        Py_END_ALLOW_THREADS
        result = PyBool_FromLong(finite);
    }
done:
    buf_release(&sb); buf_release(&mb); buf_release(&db);
    return result;
}

#define MAX_SEG 1024
#define MAX_TAPS 256

/* Largest |y_p[i]| over the branches p and the intervals i < valid of one segment; span holds
 * its samples from R - 1 before it, as doubles. Each y_p[i] sums its taps in order j. */
MULTIVERSION static double segment_peak(const double *span, Py_ssize_t valid,
                                        const double *taps_t, Py_ssize_t ntaps,
                                        Py_ssize_t phases, double *y) {
    double top[LANES] = {0};
    for (Py_ssize_t ph = 0; ph < phases; ph++) {
        const double *h = taps_t + ph * ntaps;
        for (Py_ssize_t i = 0; i < valid; i++) y[i] = 0.0;
        for (Py_ssize_t j = 0; j < ntaps; j++) {
            const double hj = h[j];
            const double *s = span + j;
            for (Py_ssize_t i = 0; i < valid; i++) y[i] += hj * s[i];
        }
        Py_ssize_t i = 0;
        for (; i + LANES <= valid; i += LANES)
            for (int k = 0; k < LANES; k++) {
                const double v = fabs(y[i + k]);
                top[k] = v > top[k] ? v : top[k];
            }
        for (; i < valid; i++) {
            const double v = fabs(y[i]);
            top[0] = v > top[0] ? v : top[0];
        }
    }
    double best = 0.0;
    for (int k = 0; k < LANES; k++) best = top[k] > best ? top[k] : best;
    return best;
}

#define PEAK_LOOP(T)                                                                       \
    for (Py_ssize_t q = 0; q < count; q++) {                                               \
        const T *p = (const T *)(base + chan[q] * row_stride) + starts[q] - (ntaps / 2 - 1); \
        Py_ssize_t valid = limit - starts[q];                                              \
        if (valid > seg) valid = seg;                                                      \
        double top = 0.0;                                                                  \
        if (valid > 0) {                                                                   \
            for (Py_ssize_t i = 0; i < valid + ntaps - 1; i++) span[i] = (double)p[i];     \
            top = segment_peak(span, valid, taps_t, ntaps, phases, y);                     \
        }                                                                                  \
        out[q] = top;                                                                      \
    }

PyDoc_STRVAR(interpolated_peaks_doc,
"interpolated_peaks(samples, chan, starts, seg, taps, limit, out)\n"
"\n"
"For each q: the largest |y| of the polyphase interpolation of the ``seg`` intervals from\n"
"index ``starts[q]`` of row ``chan[q]`` of ``samples`` (float32/float64 (channels, n), rows\n"
"contiguous), every branch: ``y_p[i] = sum_j taps[j, p] x[start + i - R + 1 + j]`` with\n"
"``taps`` float64 (2R, phases). Intervals at or after ``limit`` count as 0. ``chan`` and\n"
"``starts`` are int64 (count,), ``out`` float64 (count,). Double precision; each y_p[i]\n"
"sums its taps in order j = 0 .. 2R - 1.");

static PyObject *interpolated_peaks(PyObject *self, PyObject *args) {
    PyObject *o_samples, *o_chan, *o_starts, *o_taps, *o_out;
    Py_ssize_t seg, limit;
    if (!PyArg_ParseTuple(args, "OOOnOnO", &o_samples, &o_chan, &o_starts, &seg, &o_taps,
                          &limit, &o_out))
        return NULL;
    Buf sb = {0}, cb = {0}, stb = {0}, tb = {0}, ob = {0};
    PyObject *result = NULL;
    double *scratch = NULL;
    char kind;
    if (get_rows(o_samples, &sb, &kind) < 0) goto done;
    const Py_ssize_t channels = sb.view.shape[0], n = sb.view.shape[1];
    if (PyObject_GetBuffer(o_chan, &cb.view, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0) goto done;
    cb.held = 1;
    if (PyObject_GetBuffer(o_starts, &stb.view, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0)
        goto done;
    stb.held = 1;
    if (!is_int64(&cb.view) || !is_int64(&stb.view) || cb.view.len != stb.view.len) {
        PyErr_SetString(PyExc_TypeError, "chan and starts must be int64 of equal length");
        goto done;
    }
    const Py_ssize_t count = cb.view.len / 8;
    if (PyObject_GetBuffer(o_taps, &tb.view, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0) goto done;
    tb.held = 1;
    if (float_kind(&tb.view) != 'd' || tb.view.ndim != 2 || tb.view.shape[0] % 2 ||
        tb.view.shape[0] < 2 || tb.view.shape[0] > MAX_TAPS || tb.view.shape[1] < 1) {
        PyErr_SetString(PyExc_ValueError, "taps must be float64 (2R, phases), 2R <= 256");
        goto done;
    }
    const Py_ssize_t ntaps = tb.view.shape[0], phases = tb.view.shape[1];
    if (seg < 1 || seg > MAX_SEG) {
        PyErr_SetString(PyExc_ValueError, "seg must be in 1..1024");
        goto done;
    }
    if (get_doubles(o_out, &ob, count, 1, "out") < 0) goto done;
    const long long *chan = cb.view.buf, *starts = stb.view.buf;
    for (Py_ssize_t q = 0; q < count; q++) {
        if (chan[q] < 0 || chan[q] >= channels || starts[q] - (ntaps / 2 - 1) < 0 ||
            starts[q] + seg + ntaps / 2 > n) {
            PyErr_Format(PyExc_IndexError, "segment %zd (channel %lld, start %lld) is outside "
                         "the samples", q, chan[q], starts[q]);
            goto done;
        }
    }
    scratch = PyMem_Malloc(sizeof(double) * (ntaps * phases + 2 * (MAX_SEG + MAX_TAPS)));
    if (!scratch) {
        PyErr_NoMemory();
        goto done;
    }
    {
        double *taps_t = scratch, *span = scratch + ntaps * phases, *y = span + MAX_SEG + MAX_TAPS;
        const double *taps = tb.view.buf;
        for (Py_ssize_t j = 0; j < ntaps; j++)
            for (Py_ssize_t ph = 0; ph < phases; ph++) taps_t[ph * ntaps + j] = taps[j * phases + ph];
        const char *base = sb.view.buf;
        const Py_ssize_t row_stride = sb.view.strides[0];
        double *out = ob.view.buf;
        Py_BEGIN_ALLOW_THREADS
        if (kind == 'f') {
            PEAK_LOOP(float)
        } else {
            PEAK_LOOP(double)
        }
        Py_END_ALLOW_THREADS
    }
    result = Py_NewRef(Py_None);
done:
    PyMem_Free(scratch);
    buf_release(&sb); buf_release(&cb); buf_release(&stb); buf_release(&tb); buf_release(&ob);
    return result;
}

/* ---------------------------------------------------------------- limiter */

PyDoc_STRVAR(limiter_release_doc,
"limiter_release(frames, gain, threshold, threshold_db, release, state, gained, rel)\n"
"\n"
"The first half of the Loud-mode limiter (playback.py, :class:`Limiter`), frame by frame:\n"
"``gained = frames * gain`` (``frames`` C-contiguous float32/float64 (n, channels); ``gained``\n"
"float64 with n * channels elements, written), then the release envelope in dB, written to\n"
"``rel`` (float64 (n,)): ``need = 20 log10(peak) - threshold_db`` where the frame's peak\n"
"``max_c |gained|`` exceeds ``threshold`` (linear), else 0, and ``rel[k] = max(need,\n"
"rel[k - 1] * release)``, starting from ``state`` (float64 (1,), the last frame's rel, updated).\n"
"Double precision, in the order written (the per-frame reference in tests/analysis).");

#define RELEASE_LOOP(T)                                                                    \
    {                                                                                      \
        const T *x = (const T *)src;                                                       \
        for (Py_ssize_t k = 0; k < n; k++) {                                               \
            double peak = 0.0;                                                             \
            for (Py_ssize_t c = 0; c < channels; c++) {                                    \
                const double v = (double)x[k * channels + c] * gain;                       \
                g[k * channels + c] = v;                                                   \
                const double m = fabs(v);                                                  \
                peak = m > peak ? m : peak;                                                \
            }                                                                              \
            const double decayed = s * release;                                            \
            /* log10 only where the frame is over the threshold (music: a small part). */  \
            const double need = peak > threshold ? 20.0 * log10(peak) - threshold_db : 0.0; \
            s = need >= decayed ? need : decayed;                                          \
            rel[k] = s;                                                                    \
        }                                                                                  \
    }

static PyObject *limiter_release(PyObject *self, PyObject *args) {
    PyObject *o_frames, *o_state, *o_gained, *o_rel;
    double gain, threshold, threshold_db, release;
    if (!PyArg_ParseTuple(args, "OddddOOO", &o_frames, &gain, &threshold, &threshold_db,
                          &release, &o_state, &o_gained, &o_rel))
        return NULL;
    Buf fr = {0}, sb = {0}, gb = {0}, rb = {0};
    PyObject *result = NULL;
    char kind;
    if (get_frames(o_frames, &fr, &kind) < 0) goto done;
    const Py_ssize_t n = fr.view.shape[0], channels = fr.view.shape[1];
    if (get_doubles(o_state, &sb, 1, 1, "state") < 0 ||
        get_doubles(o_gained, &gb, n * channels, 1, "gained") < 0 ||
        get_doubles(o_rel, &rb, n, 1, "rel") < 0)
        goto done;
    {
        const void *src = fr.view.buf;
        double *state = sb.view.buf, *g = gb.view.buf, *rel = rb.view.buf;
        double s = state[0];
        Py_BEGIN_ALLOW_THREADS
        if (kind == 'f') {
            RELEASE_LOOP(float)
        } else {
            RELEASE_LOOP(double)
        }
        Py_END_ALLOW_THREADS
        state[0] = s;
    }
    result = Py_NewRef(Py_None);
done:
    buf_release(&fr); buf_release(&sb); buf_release(&gb); buf_release(&rb);
    return result;
}

/* g[k, c] *= factor[k] for the first n frames (stereo unrolled: the usual case). */
MULTIVERSION static void scale_frames(double *g, const double *factor, Py_ssize_t n,
                                      Py_ssize_t channels) {
    if (channels == 2) {
        for (Py_ssize_t k = 0; k < n; k++) {
            g[2 * k] *= factor[k];
            g[2 * k + 1] *= factor[k];
        }
        return;
    }
    for (Py_ssize_t k = 0; k < n; k++)
        for (Py_ssize_t c = 0; c < channels; c++) g[k * channels + c] *= factor[k];
}

/* exp(y) for -700 <= y <= 0 in a form the compiler vectorises (libm's exp is a call per
 * value: most of the limiter's time): y = k ln 2 + r with |r| <= ln(2) / 2 (Cody and Waite's
 * two-part ln 2, k * ln2_hi exact), exp(r) by its Taylor series to r^13 (truncation below
 * 4e-18), times 2^k built in the exponent bits. Within one unit in the last place of glibc's
 * exp (tests/analysis/test_c_kernels.py); the same operations in every build, no FMA. */
static inline double exp_nonpositive(double y) {
    const double shift = 6755399441055744.0; /* 1.5 * 2^52: adding it rounds to an integer */
    const double log2e = 1.4426950408889634074;
    const double ln2_hi = 6.93147180369123816490e-01, ln2_lo = 1.90821492927058770002e-10;
    const double t = y * log2e + shift;
    const double kf = t - shift;
    const double r = (y - kf * ln2_hi) - kf * ln2_lo;
    double p = 1.0 / 6227020800.0;
    p = p * r + 1.0 / 479001600.0;
    p = p * r + 1.0 / 39916800.0;
    p = p * r + 1.0 / 3628800.0;
    p = p * r + 1.0 / 362880.0;
    p = p * r + 1.0 / 40320.0;
    p = p * r + 1.0 / 5040.0;
    p = p * r + 1.0 / 720.0;
    p = p * r + 1.0 / 120.0;
    p = p * r + 1.0 / 24.0;
    p = p * r + 1.0 / 6.0;
    p = p * r + 0.5;
    p = p * r + 1.0;
    p = p * r + 1.0;
    int64_t bits;
    memcpy(&bits, &t, sizeof bits);
    const int64_t scale_bits = (bits - 0x4338000000000000LL + 1023) * ((int64_t)1 << 52);
    double scale;
    memcpy(&scale, &scale_bits, sizeof scale);
    return p * scale;
}

/* y[k] = exp(y[k]) in place: by exp_nonpositive when every y is in [-700, 0] (the loop then
 * vectorises), else by libm's exp (not for audio: a reduction of 6000 dB). */
MULTIVERSION static void exp_fast_loop(double *y, Py_ssize_t n) {
    for (Py_ssize_t k = 0; k < n; k++) y[k] = exp_nonpositive(y[k]);
}

static void exp_factors(double *y, Py_ssize_t n) {
    int in_range = 1;
    for (Py_ssize_t k = 0; k < n && in_range; k++) in_range = y[k] >= -700.0 && y[k] <= 0.0;
    if (in_range) {
        exp_fast_loop(y, n);
        return;
    }
    for (Py_ssize_t k = 0; k < n; k++) y[k] = exp(y[k]);
}

PyDoc_STRVAR(exp_nonpositive_doc,
"exp_nonpositive(y)\n"
"\n"
"``exp`` of every element of ``y`` (C-contiguous float64, written in place): the limiter's\n"
"reduction factors, as its kernel computes them (all in [-700, 0]: a vectorised series; else\n"
"libm's exp for all). For the tests.");

static PyObject *exp_nonpositive_py(PyObject *self, PyObject *args) {
    PyObject *o_y;
    if (!PyArg_ParseTuple(args, "O", &o_y)) return NULL;
    Buf yb = {0};
    if (get_doubles(o_y, &yb, -1, 1, "y") < 0) {
        buf_release(&yb);
        return NULL;
    }
    exp_factors(yb.view.buf, yb.view.len / 8);
    buf_release(&yb);
    return Py_NewRef(Py_None);
}

PyDoc_STRVAR(limiter_apply_doc,
"limiter_apply(gained, rel, ready, attack, per_db, active_db, hist_scale, hist)\n"
"    -> (active frames, largest reduction dB)\n"
"\n"
"The second half of the limiter: the attack looking ahead, backwards from the last frame of\n"
"``rel`` (float64 (total,), as ``limiter_release`` wrote it; nothing is taken to lie after\n"
"it): ``red[k] = max(rel[k], red[k + 1] * attack)``. The first ``ready`` frames of ``gained``\n"
"(float64 (total, channels), C-contiguous) are multiplied in place by ``exp(red * per_db)``\n"
"(``per_db = -ln(10) / 20``: 10^(-red / 20), by ``exp_nonpositive``), and ``rel[:ready]``\n"
"is overwritten with those factors; the other frames are left alone. Among the ``ready``\n"
"frames, each with ``red >= active_db`` is counted and adds one to ``hist`` (int64) at bin\n"
"``floor(red * hist_scale + 0.5)``, the last bin taking everything above it. Double\n"
"precision.");

static PyObject *limiter_apply(PyObject *self, PyObject *args) {
    PyObject *o_gained, *o_rel, *o_hist;
    Py_ssize_t ready;
    double attack, per_db, active_db, hist_scale;
    if (!PyArg_ParseTuple(args, "OOnddddO", &o_gained, &o_rel, &ready, &attack, &per_db,
                          &active_db, &hist_scale, &o_hist))
        return NULL;
    Buf gb = {0}, rb = {0}, hb = {0};
    PyObject *result = NULL;
    if (get_doubles(o_rel, &rb, -1, 1, "rel") < 0) goto done;
    const Py_ssize_t total = rb.view.len / 8;
    if (get_doubles(o_gained, &gb, -1, 1, "gained") < 0) goto done;
    if (gb.view.ndim != 2 || gb.view.shape[0] != total) {
        PyErr_SetString(PyExc_ValueError, "gained must have shape (len(rel), channels)");
        goto done;
    }
    if (ready < 0 || ready > total) {
        PyErr_SetString(PyExc_ValueError, "need 0 <= ready <= len(rel)");
        goto done;
    }
    if (PyObject_GetBuffer(o_hist, &hb.view, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | PyBUF_WRITABLE) <
        0)
        goto done;
    hb.held = 1;
    if (!is_int64(&hb.view) || hb.view.len < 8) {
        PyErr_SetString(PyExc_TypeError, "hist must be int64 with at least one bin");
        goto done;
    }
    {
        const Py_ssize_t channels = gb.view.shape[1], top = hb.view.len / 8 - 1;
        double *g = gb.view.buf, *rel = rb.view.buf;
        long long *hist = hb.view.buf;
        long long active = 0;
        double largest = 0.0, ahead = 0.0;
        Py_BEGIN_ALLOW_THREADS
        for (Py_ssize_t k = total - 1; k >= ready; k--) {
            const double carried = ahead * attack;
            ahead = rel[k] >= carried ? rel[k] : carried;
        }
        /* Backwards (the recursion), the exponent of each factor into rel; then the factors
         * and the products in two loops the compiler vectorises. The reduction moves slowly,
         * so neighbouring frames share a bin: counted as runs (one increment of the same
         * counter after another waits on the last one's store). */
        Py_ssize_t run_bin = 0;
        long long run = 0;
        for (Py_ssize_t k = ready - 1; k >= 0; k--) {
            const double carried = ahead * attack;
            ahead = rel[k] >= carried ? rel[k] : carried;
            if (ahead >= active_db) {
                active++;
                largest = ahead > largest ? ahead : largest;
                const double at = ahead * hist_scale + 0.5;
                const Py_ssize_t bin = at < (double)top ? (Py_ssize_t)at : top;
                if (bin != run_bin) {
                    hist[run_bin] += run;
                    run_bin = bin;
                    run = 0;
                }
                run++;
            }
            rel[k] = ahead * per_db;
        }
        hist[run_bin] += run;
        exp_factors(rel, ready);
        scale_frames(g, rel, ready, channels);
        Py_END_ALLOW_THREADS
        result = Py_BuildValue("Ld", active, largest);
    }
done:
    buf_release(&gb); buf_release(&rb); buf_release(&hb);
    return result;
}

/* --------------------------------------------------------- true peak, max */

/* Of one segment of interleaved frames, all channels together: the largest |x| of its
 * samples (smax), that with the frame after it (amp), and the largest |d2| its intervals' taps
 * read (frames first - R + 1 .. first + valid + R - 2 as d2's first sample); 0 if one of its
 * own samples is NaN or infinite. Flat loops over the interleaved samples in eight independent
 * lanes, as in DEFINE_SCAN (maxima are exact whatever the order). */
MULTIVERSION static int frames_scan(const double *x, Py_ssize_t channels, Py_ssize_t first,
                                    Py_ssize_t valid, Py_ssize_t radius, double *smax,
                                    double *amp, double *d2) {
    double m[LANES] = {0}, d[LANES] = {0};
    int ok[LANES];
    for (int j = 0; j < LANES; j++) ok[j] = 1;
    const double *p = x + first * channels;
    const Py_ssize_t ns = valid * channels;
    Py_ssize_t i = 0;
    for (; i + LANES <= ns; i += LANES)
        for (int j = 0; j < LANES; j++) {
            const double v = fabs(p[i + j]);
            ok[j] &= v <= DBL_MAX; /* false for NaN and infinity */
            m[j] = v > m[j] ? v : m[j];
        }
    for (; i < ns; i++) {
        const double v = fabs(p[i]);
        ok[0] &= v <= DBL_MAX;
        m[0] = v > m[0] ? v : m[0];
    }
    double mm = 0.0, next = 0.0, dd = 0.0;
    int good = 1;
    for (int j = 0; j < LANES; j++) {
        mm = m[j] > mm ? m[j] : mm;
        good &= ok[j];
    }
    for (Py_ssize_t c = 0; c < channels; c++) {
        const double v = fabs(p[ns + c]);
        next = v > next ? v : next;
    }
    const double *q = x + (first - radius + 1) * channels;
    const Py_ssize_t nd = (valid + 2 * radius - 3) * channels, two = 2 * channels;
    for (i = 0; i + LANES <= nd; i += LANES)
        for (int j = 0; j < LANES; j++) {
            const double e = fabs(q[i + j] - 2.0 * q[i + j + channels] + q[i + j + two]);
            d[j] = e > d[j] ? e : d[j];
        }
    for (; i < nd; i++) {
        const double e = fabs(q[i] - 2.0 * q[i + channels] + q[i + two]);
        d[0] = e > d[0] ? e : d[0];
    }
    for (int j = 0; j < LANES; j++) dd = d[j] > dd ? d[j] : dd;
    *smax = mm;
    *amp = next > mm ? next : mm;
    *d2 = dd;
    return good;
}

PyDoc_STRVAR(true_peak_max_doc,
"true_peak_max(frames, first, stop, seg, taps, kappa, c_norm, slack, best) -> bool\n"
"\n"
"The largest true-peak value of the intervals ``first <= i < stop`` of every channel of\n"
"``frames`` (C-contiguous float64 (n, channels); needs first >= R - 1 and stop + R <= n,\n"
"R = len(taps) / 2), folded into ``best`` (float64 (1,), updated): the largest |x[i]| and\n"
"|y_p[i]| of every branch of ``taps`` (float64 (2R, phases), as ``interpolated_peaks``; no\n"
"phases: sample peaks only). Intervals go in segments of ``seg``; a segment is interpolated\n"
"(the very sums of ``interpolated_peaks``) only when its bound (kappa max |x| + c_norm max\n"
"|d2|) * slack over the samples it reads exceeds the best value so far (peaks.py's shortcut),\n"
"the segment with the largest bound first, so the result equals interpolating every\n"
"interval. Returns False if a sample is NaN or infinite.");

static PyObject *true_peak_max(PyObject *self, PyObject *args) {
    PyObject *o_frames, *o_taps, *o_best;
    Py_ssize_t first, stop, seg;
    double kappa, c_norm, slack;
    if (!PyArg_ParseTuple(args, "OnnnOdddO", &o_frames, &first, &stop, &seg, &o_taps, &kappa,
                          &c_norm, &slack, &o_best))
        return NULL;
    Buf fb = {0}, tb = {0}, bb = {0};
    PyObject *result = NULL;
    double *scratch = NULL, *bounds = NULL;
    if (get_doubles(o_frames, &fb, -1, 0, "frames") < 0) goto done;
    if (fb.view.ndim != 2) {
        PyErr_SetString(PyExc_TypeError, "frames must be 2-D float64 (n, channels)");
        goto done;
    }
    const Py_ssize_t n = fb.view.shape[0], channels = fb.view.shape[1];
    if (get_doubles(o_taps, &tb, -1, 0, "taps") < 0) goto done;
    if (tb.view.ndim != 2 || tb.view.shape[0] % 2 || tb.view.shape[0] < 2 ||
        tb.view.shape[0] > MAX_TAPS) {
        PyErr_SetString(PyExc_ValueError, "taps must be float64 (2R, phases), 2R <= 256");
        goto done;
    }
    const Py_ssize_t ntaps = tb.view.shape[0], phases = tb.view.shape[1], radius = ntaps / 2;
    if (seg < 1 || seg > MAX_SEG) {
        PyErr_SetString(PyExc_ValueError, "seg must be in 1..1024");
        goto done;
    }
    if (first < radius - 1 || stop < first || stop + radius > n) {
        PyErr_SetString(PyExc_ValueError, "the intervals need R - 1 frames before, R after");
        goto done;
    }
    if (get_doubles(o_best, &bb, 1, 1, "best") < 0) goto done;
    const Py_ssize_t nseg = (stop - first + seg - 1) / seg;
    scratch = PyMem_Malloc(sizeof(double) * (ntaps * phases + 2 * (MAX_SEG + MAX_TAPS)));
    bounds = PyMem_Malloc(sizeof(double) * (nseg + 1));
    if (!scratch || !bounds) {
        PyErr_NoMemory();
        goto done;
    }
    {
        double *taps_t = scratch, *span = scratch + ntaps * phases, *y = span + MAX_SEG + MAX_TAPS;
        const double *taps = tb.view.buf, *x = fb.view.buf;
        for (Py_ssize_t j = 0; j < ntaps; j++)
            for (Py_ssize_t ph = 0; ph < phases; ph++) taps_t[ph * ntaps + j] = taps[j * phases + ph];
        double best = ((double *)bb.view.buf)[0];
        int finite = 1;
        Py_BEGIN_ALLOW_THREADS
/* The samples segment q of channel c reads, from R - 1 before its first interval. */
#define GATHER(c, q, valid)                                                                \
    const Py_ssize_t start = first + (q) * seg;                                            \
    const Py_ssize_t valid = stop - start < seg ? stop - start : seg;                      \
    {                                                                                      \
        const double *p = x + (start - radius + 1) * channels + (c);                       \
        for (Py_ssize_t i = 0; i < valid + ntaps - 1; i++) span[i] = p[i * channels];      \
    }
        Py_ssize_t best_q = -1;
        double top = -1.0;
        /* One bound per segment for all channels (only the maximum over them is wanted). */
        for (Py_ssize_t q = 0; q < nseg; q++) {
            const Py_ssize_t start = first + q * seg;
            const Py_ssize_t valid = stop - start < seg ? stop - start : seg;
            double smax, amp, d2;
            if (!frames_scan(x, channels, start, valid, radius, &smax, &amp, &d2)) {
                finite = 0;
                break;
            }
            best = smax > best ? smax : best;
            /* |y_p| <= kappa max(|x[i]|, |x[i+1]|) + c_norm max |d2| over its taps. */
            const double bound = (kappa * amp + c_norm * d2) * slack;
            bounds[q] = bound;
            if (bound > top) {
                top = bound;
                best_q = q;
            }
        }
        if (finite && phases > 0 && best_q >= 0 && top > best) {
            /* The most promising segment first: its value prunes most of the others. */
            for (Py_ssize_t pass = 0; pass < 2; pass++) {
                for (Py_ssize_t q = 0; q < nseg; q++) {
                    if ((pass == 0) != (q == best_q) || !(bounds[q] > best)) continue;
                    for (Py_ssize_t c = 0; c < channels; c++) {
                        GATHER(c, q, valid)
                        const double v = segment_peak(span, valid, taps_t, ntaps, phases, y);
                        best = v > best ? v : best;
                    }
                }
            }
        }
#undef GATHER
        Py_END_ALLOW_THREADS
        ((double *)bb.view.buf)[0] = best;
        result = PyBool_FromLong(finite);
    }
done:
    PyMem_Free(scratch);
    PyMem_Free(bounds);
    buf_release(&fb); buf_release(&tb); buf_release(&bb);
    return result;
}

/* ------------------------------------------------------------ stereo sums */

#define STEREO_LOOP(T)                                                                     \
    {                                                                                      \
        const T *x = (const T *)src;                                                       \
        for (Py_ssize_t k = 0; k < n; k++) {                                               \
            const double l = (double)x[k * channels], r = (double)x[k * channels + 1];     \
            double wl = l, wr = r;                                                         \
            if (weighted) {                                                                \
                wl = weighted[k * wchannels];                                              \
                wr = weighted[k * wchannels + 1];                                          \
            }                                                                              \
            s[0] += l;                                                                     \
            s[1] += r;                                                                     \
            s[2] += l * l;                                                                 \
            s[3] += r * r;                                                                 \
            s[4] += l * r;                                                                 \
            s[5] += wl * wl;                                                               \
            s[6] += wr * wr;                                                               \
            s[7] += wl * wr;                                                               \
            if (++count == hop) {                                                          \
                memcpy(out + row * 8, s, sizeof(s));                                       \
                row++;                                                                     \
                memset(s, 0, sizeof(s));                                                   \
                count = 0;                                                                 \
            }                                                                              \
        }                                                                                  \
    }

PyDoc_STRVAR(stereo_sums_doc,
"stereo_sums(frames, weighted, hop_frames, partial, partial_frames, out)\n"
"\n"
"Per-hop sums of the first two channels L, R of ``frames`` (C-contiguous float32/float64,\n"
"shape (n, channels >= 2)): L, R, L*L, R*R, L*R, then Lw*Lw, Rw*Rw, Lw*Rw of ``weighted``\n"
"(None: the same samples; else C-contiguous float64 (n, channels >= 2), e.g. K-weighted).\n"
"Hops are ``hop_frames`` long; ``partial`` (float64, (8,), updated in place) holds the sums\n"
"of the unfinished hop, which already has ``partial_frames`` frames; each hop completed here\n"
"is written as a row of ``out`` (float64, (rows, 8), rows >= (partial_frames + n) //\n"
"hop_frames). Sequential double-precision sums, so the result does not depend on how the\n"
"stream is split. Returns (completed rows, frames in the unfinished hop).");

static PyObject *stereo_sums(PyObject *self, PyObject *args) {
    PyObject *o_frames, *o_weighted, *o_partial, *o_out;
    Py_ssize_t hop, partial_frames;
    if (!PyArg_ParseTuple(args, "OOnOnO", &o_frames, &o_weighted, &hop, &o_partial,
                          &partial_frames, &o_out))
        return NULL;
    Buf fr = {0}, wb = {0}, pb = {0}, ob = {0};
    PyObject *result = NULL;
    if (PyObject_GetBuffer(o_frames, &fr.view, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0)
        goto done;
    fr.held = 1;
    char kind = float_kind(&fr.view);
    if (!kind || fr.view.ndim != 2 || fr.view.shape[1] < 2) {
        PyErr_SetString(PyExc_TypeError, "frames must be 2-D float32 or float64, 2+ channels");
        goto done;
    }
    const Py_ssize_t n = fr.view.shape[0], channels = fr.view.shape[1];
    if (hop < 1 || partial_frames < 0 || partial_frames >= hop) {
        PyErr_SetString(PyExc_ValueError, "need 0 <= partial_frames < hop_frames");
        goto done;
    }
    Py_ssize_t wchannels = 0;
    if (o_weighted != Py_None) {
        if (get_doubles(o_weighted, &wb, -1, 0, "weighted") < 0) goto done;
        if (wb.view.ndim != 2 || wb.view.shape[0] != n || wb.view.shape[1] < 2) {
            PyErr_SetString(PyExc_ValueError, "weighted must have shape (n, 2+)");
            goto done;
        }
        wchannels = wb.view.shape[1];
    }
    const Py_ssize_t need_rows = (partial_frames + n) / hop;
    if (get_doubles(o_partial, &pb, 8, 1, "partial") < 0 ||
        get_doubles(o_out, &ob, -1, 1, "out") < 0)
        goto done;
    if (ob.view.len / 8 < need_rows * 8) {
        PyErr_SetString(PyExc_ValueError, "out has too few rows");
        goto done;
    }
    {
        const void *src = fr.view.buf;
        const double *weighted = wb.held ? wb.view.buf : NULL;
        double *partial = pb.view.buf, *out = ob.view.buf;
        Py_ssize_t count = partial_frames, row = 0;
        Py_BEGIN_ALLOW_THREADS
        double s[8];
        memcpy(s, partial, sizeof(s));
        if (kind == 'f') {
            STEREO_LOOP(float)
        } else {
            STEREO_LOOP(double)
        }
        memcpy(partial, s, sizeof(s));
        Py_END_ALLOW_THREADS
        result = Py_BuildValue("nn", row, count);
    }
done:
    buf_release(&fr); buf_release(&wb); buf_release(&pb); buf_release(&ob);
    return result;
}

/* --------------------------------------------------------- spectrum power */

PyDoc_STRVAR(power_spectrum_doc,
"power_spectrum(spectrum, power, accumulate)\n"
"\n"
"|X|^2 of ``spectrum`` (C-contiguous complex64) into ``power`` (C-contiguous float32 with as\n"
"many elements, written in place): ``re * re + im * im`` when ``accumulate`` is false, else\n"
"``(power + re * re) + im * im``. Single precision, the very operations (and rounding) of\n"
"numpy's float32 ``p = re * re; p += im * im`` and ``p += re * re; p += im * im``.");

static PyObject *power_spectrum(PyObject *self, PyObject *args) {
    PyObject *o_spectrum, *o_power;
    int accumulate;
    if (!PyArg_ParseTuple(args, "OOp", &o_spectrum, &o_power, &accumulate)) return NULL;
    Buf sb = {0}, pb = {0};
    PyObject *result = NULL;
    if (PyObject_GetBuffer(o_spectrum, &sb.view, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0)
        goto done;
    sb.held = 1;
    {
        const char *f = sb.view.format ? sb.view.format : "B";
        if (f[0] == '<' || f[0] == '=' || f[0] == '@') f++;
        if (!(f[0] == 'Z' && f[1] == 'f' && f[2] == 0 && sb.view.itemsize == 8)) {
            PyErr_SetString(PyExc_TypeError, "spectrum must be complex64");
            goto done;
        }
    }
    const Py_ssize_t n = sb.view.len / 8;
    if (get_floats(o_power, &pb, n, 1, "power") < 0) goto done;
    {
        const float *x = sb.view.buf;
        float *p = pb.view.buf;
        Py_BEGIN_ALLOW_THREADS
        if (accumulate) {
            for (Py_ssize_t i = 0; i < n; i++) {
                const float re = x[2 * i], im = x[2 * i + 1];
                const float sum = p[i] + re * re;
                p[i] = sum + im * im;
            }
        } else {
            for (Py_ssize_t i = 0; i < n; i++) {
                const float re = x[2 * i], im = x[2 * i + 1];
                p[i] = re * re + im * im;
            }
        }
        Py_END_ALLOW_THREADS
    }
    result = Py_NewRef(Py_None);
done:
    buf_release(&sb); buf_release(&pb);
    return result;
}

/* ------------------------------------------------------------ onset input */

PyDoc_STRVAR(mix_decimate_doc,
"mix_decimate(frames, factor, carry, carry_frames, out) -> (written, carry_frames)\n"
"\n"
"The mono mix of ``frames`` (C-contiguous float32, (n, channels)), each frame's channels\n"
"times ``float32(1 / channels)`` summed in channel order (the frame itself for one channel),\n"
"then the mean of every ``factor`` consecutive mixed frames: their float32 sum, in order,\n"
"times ``float32(1 / factor)``. Groups run on across calls: ``carry`` (float32, one element,\n"
"updated) holds the sum of the unfinished group, which already has ``carry_frames`` frames.\n"
"Means go to ``out`` (float32, at least (carry_frames + n) // factor elements). Returns\n"
"(means written, frames in the unfinished group). Single precision throughout.");

/* One frame's channels times ``weight``, summed in channel order (the frame itself if mono). */
static inline float mono_of(const float *x, Py_ssize_t i, Py_ssize_t channels, float weight) {
    const float *frame = x + i * channels;
    if (channels == 1) return frame[0];
    float mono = frame[0] * weight;
    for (Py_ssize_t c = 1; c < channels; c++) mono = mono + frame[c] * weight;
    return mono;
}

static PyObject *mix_decimate(PyObject *self, PyObject *args) {
    PyObject *o_frames, *o_carry, *o_out;
    Py_ssize_t factor, carry_frames;
    if (!PyArg_ParseTuple(args, "OnOnO", &o_frames, &factor, &o_carry, &carry_frames, &o_out))
        return NULL;
    Buf fr = {0}, cb = {0}, ob = {0};
    PyObject *result = NULL;
    if (factor < 1 || carry_frames < 0 || carry_frames >= factor) {
        PyErr_SetString(PyExc_ValueError, "need factor >= 1 and 0 <= carry_frames < factor");
        return NULL;
    }
    if (PyObject_GetBuffer(o_frames, &fr.view, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0)
        goto done;
    fr.held = 1;
    if (float_kind(&fr.view) != 'f' || fr.view.ndim != 2 || fr.view.shape[1] < 1) {
        PyErr_SetString(PyExc_TypeError, "frames must be 2-D float32 (n, channels)");
        goto done;
    }
    if (get_floats(o_carry, &cb, 1, 1, "carry") < 0 || get_floats(o_out, &ob, -1, 1, "out") < 0)
        goto done;
    {
        const Py_ssize_t n = fr.view.shape[0], channels = fr.view.shape[1];
        const Py_ssize_t written = (carry_frames + n) / factor;
        if (ob.view.len / 4 < written) {
            PyErr_SetString(PyExc_ValueError, "out has too few elements");
            goto done;
        }
        const float *x = fr.view.buf;
        float *out = ob.view.buf, *carry = cb.view.buf;
        float sum = carry[0];
        Py_ssize_t count = carry_frames, k = 0, i = 0;
        Py_BEGIN_ALLOW_THREADS
        const float weight = 1.0f / (float)channels, scale = 1.0f / (float)factor;
        /* The unfinished group first, then whole groups (independent sums, which the CPU
         * overlaps), then what starts the next one. */
        if (count) {
            for (; i < n && count < factor; i++, count++) sum = sum + mono_of(x, i, channels, weight);
            if (count == factor) {
                out[k++] = sum * scale;
                count = 0;
            }
        }
        if (!count) {
            if (channels == 2) {
                for (; i + factor <= n; i += factor) {
                    float g = x[2 * i] * weight + x[2 * i + 1] * weight;
                    for (Py_ssize_t j = 1; j < factor; j++)
                        g = g + (x[2 * (i + j)] * weight + x[2 * (i + j) + 1] * weight);
                    out[k++] = g * scale;
                }
            } else {
                for (; i + factor <= n; i += factor) {
                    float g = mono_of(x, i, channels, weight);
                    for (Py_ssize_t j = 1; j < factor; j++) g = g + mono_of(x, i + j, channels, weight);
                    out[k++] = g * scale;
                }
            }
            for (; i < n; i++, count++)
                sum = count ? sum + mono_of(x, i, channels, weight) : mono_of(x, i, channels, weight);
        }
        Py_END_ALLOW_THREADS
        carry[0] = count ? sum : 0.0f;
        result = Py_BuildValue("nn", written, count);
    }
done:
    buf_release(&fr); buf_release(&cb); buf_release(&ob);
    return result;
}

/* ------------------------------------------------------------------ PCM */

PyDoc_STRVAR(pcm_to_float_doc,
"pcm_to_float(raw, width, out)\n"
"\n"
"Convert little-endian signed integer PCM samples of ``width`` bytes (2, 3 or 4) from the\n"
"bytes-like ``raw`` into ``out`` (C-contiguous float32, one element per sample, written in\n"
"place), scaled by 2^-(8 width - 1) so that full scale is 1.0: libsndfile's float\n"
"conversion. 16- and 24-bit values are exact in float32; a 32-bit value is rounded to the\n"
"nearest float32 (ties to even) before the scaling, which is exact (a power of two).");

MULTIVERSION static void pcm16_to_float(const unsigned char *p, float *out, Py_ssize_t n) {
    for (Py_ssize_t i = 0; i < n; i++) {
        const int16_t v = (int16_t)(uint16_t)(p[2 * i] | (p[2 * i + 1] << 8));
        out[i] = (float)v * (1.0f / 32768.0f);
    }
}

MULTIVERSION static void pcm24_to_float(const unsigned char *p, float *out, Py_ssize_t n) {
    for (Py_ssize_t i = 0; i < n; i++) {
        /* The sample in the top three bytes of an int32: value * 256, exact in float32. */
        const uint32_t u = ((uint32_t)p[3 * i] << 8) | ((uint32_t)p[3 * i + 1] << 16) |
                           ((uint32_t)p[3 * i + 2] << 24);
        out[i] = (float)(int32_t)u * (1.0f / 2147483648.0f);
    }
}

MULTIVERSION static void pcm32_to_float(const unsigned char *p, float *out, Py_ssize_t n) {
    for (Py_ssize_t i = 0; i < n; i++) {
        const uint32_t u = (uint32_t)p[4 * i] | ((uint32_t)p[4 * i + 1] << 8) |
                           ((uint32_t)p[4 * i + 2] << 16) | ((uint32_t)p[4 * i + 3] << 24);
        out[i] = (float)(int32_t)u * (1.0f / 2147483648.0f);
    }
}

static PyObject *pcm_to_float(PyObject *self, PyObject *args) {
    PyObject *o_raw, *o_out;
    int width;
    if (!PyArg_ParseTuple(args, "OiO", &o_raw, &width, &o_out)) return NULL;
    if (width < 2 || width > 4) {
        PyErr_SetString(PyExc_ValueError, "width must be 2, 3 or 4 bytes");
        return NULL;
    }
    Buf rb = {0}, ob = {0};
    PyObject *result = NULL;
    if (PyObject_GetBuffer(o_raw, &rb.view, PyBUF_C_CONTIGUOUS) < 0) goto done;
    rb.held = 1;
    if (get_floats(o_out, &ob, -1, 1, "out") < 0) goto done;
    {
        const Py_ssize_t n = ob.view.len / 4;
        if (rb.view.len < n * width) {
            PyErr_SetString(PyExc_ValueError, "raw holds fewer samples than out");
            goto done;
        }
        const unsigned char *p = rb.view.buf;
        float *out = ob.view.buf;
        Py_BEGIN_ALLOW_THREADS
        if (width == 2) pcm16_to_float(p, out, n);
        else if (width == 3) pcm24_to_float(p, out, n);
        else pcm32_to_float(p, out, n);
        Py_END_ALLOW_THREADS
    }
    result = Py_NewRef(Py_None);
done:
    buf_release(&rb); buf_release(&ob);
    return result;
}

/* ----------------------------------------------------------------- module */

static PyMethodDef methods[] = {
    {"kweight_energies", kweight_energies, METH_VARARGS, kweight_energies_doc},
    {"kweight_energies_stereo", kweight_energies_stereo, METH_VARARGS,
     kweight_energies_stereo_doc},
    {"segment_scan", segment_scan, METH_VARARGS, segment_scan_doc},
    {"interpolated_peaks", interpolated_peaks, METH_VARARGS, interpolated_peaks_doc},
    {"stereo_sums", stereo_sums, METH_VARARGS, stereo_sums_doc},
    {"limiter_release", limiter_release, METH_VARARGS, limiter_release_doc},
    {"limiter_apply", limiter_apply, METH_VARARGS, limiter_apply_doc},
    {"true_peak_max", true_peak_max, METH_VARARGS, true_peak_max_doc},
    {"exp_nonpositive", exp_nonpositive_py, METH_VARARGS, exp_nonpositive_doc},
    {"power_spectrum", power_spectrum, METH_VARARGS, power_spectrum_doc},
    {"mix_decimate", mix_decimate, METH_VARARGS, mix_decimate_doc},
    {"pcm_to_float", pcm_to_float, METH_VARARGS, pcm_to_float_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "soundy.analysis._kernels",
    "Inner loops of the loudness (BS.1770 K-weighting), true-peak, stereo and spectrum meters,\n"
    "Spotify Loud's limiter and the WAV reader's PCM conversion.",
    -1, methods,
};

PyMODINIT_FUNC PyInit__kernels(void) { return PyModule_Create(&module); }
