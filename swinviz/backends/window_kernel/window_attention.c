/* Window attention of the Swin Transformer, fused: for every (image, window, head) the q, k, v
 * rows of the window's tokens are gathered straight from the qkv linear's output (the cyclic
 * shift and window partition as an index), then softmax(q k^T * scale + bias + mask) v is
 * written straight to the tokens' rows of the output (window reverse and the shift back, padding
 * slots dropped). A (window, head) lives in L1 from start to end: no q, k, v or score tensors
 * in memory, one pass instead of two gathers, two batched GEMMs and a softmax.
 *
 * The scores are held as (keys, queries): vectors run across queries, so the softmax over the
 * keys is elementwise maxima and sums down the rows (no horizontal reductions); q is gathered
 * transposed, 16 x 16 blocks at a time through registers.
 *
 * Portable C with GCC vector extensions (16 floats; the compiler splits them where the CPU has
 * narrower vectors) and OpenMP over (image, window, head). Built at first use by
 * swinviz.backends.window_kernel, which checks it against the plain ops before using it.
 *
 * Shapes (float32, contiguous):
 *   qkv    (B, Lp, 3C): rows of [q | k | v], each C = nH * d wide, head h at h*d
 *   order  (nW * N,) int64: the token (0..Lp-1) each window slot takes; a token >= L is padding
 *   addend (nH + nWm, N, nq): the bias of each head, then the mask of nWm windows (none when
 *          nWm = 0; window w takes w % nWm), as (key, query), queries padded to nq = N rounded
 *          up to 16 with zeros. The scores are (q k^T * scale + bias) + mask, the reference's
 *          order of adds.
 *   out    (B, L, C): token t, head h at t*C + h*d
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define VW 16  /* floats per vector */
#define RB 4   /* key rows per register block of the scores */
#define RV 7   /* query rows per register block of the values */
#define QV 4   /* query vectors per register block (64 queries) */
#define DV 4   /* most vectors in a head (d <= 64) */

typedef float vf __attribute__((vector_size(VW * 4)));
typedef int32_t vi __attribute__((vector_size(VW * 4)));

static inline vf vload(const float *p) { vf v; memcpy(&v, p, sizeof v); return v; }
static inline void vstore(float *p, vf v) { memcpy(p, &v, sizeof v); }
static inline vf vbroadcast(float x) {
    return (vf){x, x, x, x, x, x, x, x, x, x, x, x, x, x, x, x};
}
static inline vf vselect(vi m, vf a, vf b) { return (vf)(((vi)a & m) | ((vi)b & ~m)); }
static inline vf vmax(vf a, vf b) { return vselect(a > b, a, b); }
static inline int round_up(int x, int m) { return (x + m - 1) / m * m; }
/* 16 x 16 transpose in registers: four rounds of two-vector shuffles, each swapping the
 * off-diagonal p x p blocks of every 2p x 2p block (p = 8, 4, 2, 1). GCC from 12, and clang. */
#if VW == 16 && (defined(__clang__) || (defined(__GNUC__) && __GNUC__ >= 12))
#define HAVE_TRANSPOSE 1
#define UNPACK(...) __VA_ARGS__
/* r[i], r[i + p] = lanes LO, HI of the pair (r[i], r[i + p]), for every i without bit p */
#define ROUND(p, LO, HI)                                           \
    for (int i = 0; i < VW; i++)                                  \
        if (!(i & p)) {                                           \
            vf a = r[i], b = r[i + p];                            \
            r[i] = __builtin_shufflevector(a, b, UNPACK LO);      \
            r[i + p] = __builtin_shufflevector(a, b, UNPACK HI);  \
        }
static inline void transpose16(vf *r) {
    ROUND(8, (0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23),
          (8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31))
    ROUND(4, (0, 1, 2, 3, 16, 17, 18, 19, 8, 9, 10, 11, 24, 25, 26, 27),
          (4, 5, 6, 7, 20, 21, 22, 23, 12, 13, 14, 15, 28, 29, 30, 31))
    ROUND(2, (0, 1, 16, 17, 4, 5, 20, 21, 8, 9, 24, 25, 12, 13, 28, 29),
          (2, 3, 18, 19, 6, 7, 22, 23, 10, 11, 26, 27, 14, 15, 30, 31))
    ROUND(1, (0, 16, 2, 18, 4, 20, 6, 22, 8, 24, 10, 26, 12, 28, 14, 30),
          (1, 17, 3, 19, 5, 21, 7, 23, 9, 25, 11, 27, 13, 29, 15, 31))
}
#endif

/* keep v in a register: without this GCC reloads it from memory as an operand of every FMA,
 * and the loads, not the FMAs, then bound the loop. Only where one register holds a whole vf
 * (x86 with AVX-512): with narrower vectors GCC splits vf over several registers, which an
 * asm operand cannot name ("impossible constraint"), so the hint is left out there. */
#if defined(__x86_64__) && defined(__AVX512F__)
#define WIDE_REGISTERS 1
#define IN_REGISTER(v) __asm__("" : "+v"(v))
#else
#define WIDE_REGISTERS 0
#define IN_REGISTER(v) ((void)0)
#endif

/* exp(x) for x <= 0 (a score minus its column's maximum): Cephes' single-precision polynomial
 * (about 1 ulp) after x = n ln2 + r, n rounded to nearest by the 1.5 * 2^23 trick; below -87.3
 * (e^x under FLT_MIN) it gives FLT_MIN's neighbourhood, not 0: nothing next to the column's
 * maximum, whose exp is 1. */
static inline vf vexp(vf x) {
    const float magic = 12582912.0f; /* 1.5 * 2^23: adding it rounds to an integer */
    x = vmax(x, vbroadcast(-87.33654f));
    vf fx = x * 1.44269504088896341f + magic;
    vf n = fx - magic;
    x = x - n * 0.693359375f + n * 2.12194440e-4f;
    vf z = x * x;
    vf y = vbroadcast(1.9875691500E-4f);
    y = y * x + 1.3981999507E-3f;
    y = y * x + 8.3334519073E-3f;
    y = y * x + 4.1665795894E-2f;
    y = y * x + 1.6666665459E-1f;
    y = y * x + 5.0000001201E-1f;
    y = y * z + x + 1.0f;
    vi two_n = ((vi)fx - (vi)vbroadcast(magic) + 127) << 23; /* 2^n as float bits */
    return y * (vf)two_n;
}

/* S[r][v] = (sum_c K[r][c] QT[c][v] + A[r][v]) + W[r][v] for RB key rows and qv query
 * vectors (W, the mask, may be NULL), and the running maxima over the rows
 * m[v] = max(m[v], S[r][v]): K (RB x d, rows d apart), QT (d x ldq), A, W and S rows lda / lda /
 * lds apart; rows <= RB of them stored. */
static inline void scores_block(const float *K, int d, const float *QT, int ldq, int qv,
                                const float *A, const float *W, int lda, float *S, int lds,
                                int rows, vf *m) {
    vf acc[RB][QV];
    for (int r = 0; r < RB; r++)
        for (int v = 0; v < QV; v++) acc[r][v] = vbroadcast(0.0f);
    if (qv == QV) {
        for (int c = 0; c < d; c++) {
            const float *q = QT + (size_t)c * ldq;
            vf q0 = vload(q), q1 = vload(q + VW), q2 = vload(q + 2 * VW), q3 = vload(q + 3 * VW);
            IN_REGISTER(q0);
            IN_REGISTER(q1);
            IN_REGISTER(q2);
            IN_REGISTER(q3);
#pragma GCC unroll 4
            for (int r = 0; r < RB; r++) {
                vf k = vbroadcast(K[r * d + c]);
                acc[r][0] += k * q0;
                acc[r][1] += k * q1;
                acc[r][2] += k * q2;
                acc[r][3] += k * q3;
            }
        }
    } else {
        for (int c = 0; c < d; c++) {
            const float *q = QT + (size_t)c * ldq;
            for (int r = 0; r < RB; r++) {
                vf k = vbroadcast(K[r * d + c]);
                for (int v = 0; v < qv; v++) acc[r][v] += k * vload(q + v * VW);
            }
        }
    }
    for (int r = 0; r < rows; r++)
        for (int v = 0; v < qv; v++) {
            vf sv = acc[r][v] + vload(A + (size_t)r * lda + v * VW);
            if (W != NULL) sv += vload(W + (size_t)r * lda + v * VW);
            vstore(S + (size_t)r * lds + v * VW, sv);
            m[v] = vmax(m[v], sv);
        }
}

/* The softmax down the n rows of S (rows lds apart) for qv vectors of queries with column
 * maxima m, but for the division: S becomes exp(S - m) in place, inv 1 / the column sums. */
static inline void softmax_columns(float *S, int lds, int n, int qv, const vf *m, float *inv) {
    for (int v = 0; v < qv; v++) {
        float *s = S + v * VW;
        vf sum = vbroadcast(0.0f);
        for (int j = 0; j < n; j++) {
            vf e = vexp(vload(s + (size_t)j * lds) - m[v]);
            vstore(s + (size_t)j * lds, e);
            sum += e;
        }
        vstore(inv + v * VW, 1.0f / sum);
    }
}

/* dst[0:n] = src[0:n] */
static inline void copy_floats(float *dst, const float *src, int n) {
    for (int c = 0; c < n; c++) dst[c] = src[c];
}

/* O[r][:] = inv[r] * sum_{j<n} S[j][r] V[j][:] for RV query columns of S (rows lds apart),
 * dv vectors wide (V rows dp apart); O rows dp apart. */
static inline void values_block(const float *S, int lds, const float *V, int dp, int n, int dv,
                                const float *inv, float *O) {
    vf acc[RV][DV];
    for (int r = 0; r < RV; r++)
        for (int v = 0; v < DV; v++) acc[r][v] = vbroadcast(0.0f);
    if (dv == 2) {
        for (int j = 0; j < n; j++) {
            vf v0 = vload(V + (size_t)j * dp), v1 = vload(V + (size_t)j * dp + VW);
            IN_REGISTER(v0);
            IN_REGISTER(v1);
            const float *p = S + (size_t)j * lds;
#pragma GCC unroll 7
            for (int r = 0; r < RV; r++) {
                vf pr = vbroadcast(p[r]);
                acc[r][0] += pr * v0;
                acc[r][1] += pr * v1;
            }
        }
    } else {
        for (int j = 0; j < n; j++)
            for (int r = 0; r < RV; r++) {
                vf pr = vbroadcast(S[(size_t)j * lds + r]);
                for (int v = 0; v < dv; v++) acc[r][v] += pr * vload(V + (size_t)j * dp + v * VW);
            }
    }
    for (int r = 0; r < RV; r++)
        for (int v = 0; v < dv; v++) vstore(O + (size_t)r * dp + v * VW, acc[r][v] * inv[r]);
}

/* The largest head width the kernel takes. */
int swin_window_attention_max_head_dim(void) { return DV * VW; }

/* 1 where it was built for registers of 16 floats (AVX-512), the CPU its register blocks are
 * sized for; elsewhere each vf takes two or four registers, the blocks spill, and the loader
 * prefers the batched GEMMs (correct either way). */
int swin_window_attention_wide(void) { return WIDE_REGISTERS; }

/* Returns 0; -2 (nothing read or written) when order names a token outside 0..Lp-1; -1 when a
 * thread's scratch memory could not be had. */
int swin_window_attention(const float *qkv, const int64_t *order, const float *addend,
                          float *out, int64_t B, int64_t Lp, int64_t L, int64_t nW, int64_t N,
                          int64_t nWm, int64_t nH, int64_t d, float scale, int nthreads) {
    int outside = 0;
    for (int64_t i = 0; i < nW * N; i++) outside |= order[i] < 0 || order[i] >= Lp;
    if (outside) return -2;
    const int64_t C = nH * d, C3 = 3 * C;
    const int nq = round_up((int)N, VW), nk = round_up((int)N, RB);
    const int dp = round_up((int)d, VW), dv = dp / VW, lds = QV * VW;
    /* per thread: QT (dp x nq), K (nk x d), V (N x dp), S (nk x lds), O (RV x dp), inv (lds) */
    const size_t floats = (size_t)dp * nq + (size_t)nk * d + (size_t)N * dp + (size_t)nk * lds
                          + (size_t)RV * dp + lds + RV; /* + RV: reads past a column's end */
    const int64_t tasks = B * nW * nH;
    int failed = 0;
#pragma omp parallel num_threads(nthreads) reduction(|| : failed)
    {
        float *buf = aligned_alloc(64, (floats * 4 + 63) / 64 * 64);
        failed = buf == NULL;
        float *QT = buf, *K = QT + (size_t)dp * nq, *V = K + (size_t)nk * d;
        float *S = V + (size_t)N * dp, *O = S + (size_t)nk * lds, *inv = O + (size_t)RV * dp;
        if (buf != NULL) memset(buf, 0, floats * 4); /* the padding stays 0 */
#pragma omp for schedule(static)
        for (int64_t task = 0; task < tasks; task++) {
            if (buf == NULL) continue;
            const int64_t h = task % nH, w = (task / nH) % nW, b = task / (nH * nW);
            const int64_t *slots = order + w * N;
            const float *img = qkv + b * Lp * C3 + h * d;
            for (int64_t n = 0; n < N; n++) {
                if (n + 2 < N) { /* the rows come in the window's order, not memory's */
                    const float *next = img + slots[n + 2] * C3;
                    for (int64_t c = 0; c < d; c += VW) {
                        __builtin_prefetch(next + c);
                        __builtin_prefetch(next + C + c);
                        __builtin_prefetch(next + 2 * C + c);
                    }
                }
                const float *row = img + slots[n] * C3;
#ifdef HAVE_TRANSPOSE
                if (d % VW)
#endif
                    for (int64_t c = 0; c < d; c++) QT[c * nq + n] = row[c] * scale;
                copy_floats(K + n * d, row + C, (int)d);
                copy_floats(V + n * dp, row + 2 * C, (int)d);
            }
#ifdef HAVE_TRANSPOSE
            if (d % VW == 0) /* QT in 16 x 16 blocks, transposed in registers */
                for (int n0 = 0; n0 < nq; n0 += VW)
                    for (int c0 = 0; c0 < d; c0 += VW) {
                        vf r[VW];
                        for (int i = 0; i < VW; i++)
                            r[i] = n0 + i < N ? vload(img + slots[n0 + i] * C3 + c0) * scale
                                              : vbroadcast(0.0f);
                        transpose16(r);
                        for (int c = 0; c < VW; c++) vstore(QT + (size_t)(c0 + c) * nq + n0, r[c]);
                    }
#endif
            const float *A = addend + h * N * nq;
            const float *W = nWm > 0 ? addend + (nH + w % nWm) * N * nq : NULL;
            float *dst = out + b * L * C + h * d;
            for (int q0 = 0; q0 < nq; q0 += QV * VW) {
                int qv = (nq - q0) / VW < QV ? (nq - q0) / VW : QV;
                vf m[QV];
                for (int v = 0; v < QV; v++) m[v] = vbroadcast(-INFINITY);
                for (int j0 = 0; j0 < N; j0 += RB) {
                    int rows = (int)N - j0 < RB ? (int)N - j0 : RB;
                    scores_block(K + (size_t)j0 * d, (int)d, QT + q0, nq, qv,
                                 A + (size_t)j0 * nq + q0, W ? W + (size_t)j0 * nq + q0 : NULL, nq,
                                 S + (size_t)j0 * lds, lds, rows, m);
                }
                softmax_columns(S, lds, (int)N, qv, m, inv);
                int q1 = q0 + qv * VW < N ? q0 + qv * VW : (int)N;
                for (int i0 = q0; i0 < q1; i0 += RV) {
                    values_block(S + (i0 - q0), lds, V, dp, (int)N, dv, inv + (i0 - q0), O);
                    for (int r = 0; r < RV && i0 + r < q1; r++) {
                        int64_t t = slots[i0 + r];
                        if (t < L) copy_floats(dst + t * C, O + (size_t)r * dp, (int)d);
                    }
                }
            }
        }
        free(buf);
    }
    return failed ? -1 : 0;
}
