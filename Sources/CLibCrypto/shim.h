#ifndef ASSETDEDUP_CLIBCRYPTO_SHIM_H
#define ASSETDEDUP_CLIBCRYPTO_SHIM_H

/// OpenSSL 3 marks the SHA256_* functions deprecated in favour of EVP, whose context is opaque and
/// cannot be saved. A resumable upload needs the raw `SHA256_CTX` (plain words, copied as bytes),
/// so the low-level calls are wrapped here, with their deprecation silenced in this header only.
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include <openssl/sha.h>
#include <string.h>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

/// Size of `SHA256_CTX` in bytes: the saved state's length.
static inline size_t clibcrypto_sha256_state_size(void) {
    return sizeof(SHA256_CTX);
}

/// Starts a hash. Returns 1 on success (OpenSSL's convention).
static inline int clibcrypto_sha256_init(SHA256_CTX *ctx) {
    return SHA256_Init(ctx);
}

/// Hashes `count` more bytes. Returns 1 on success.
static inline int clibcrypto_sha256_update(SHA256_CTX *ctx, const void *bytes, size_t count) {
    return SHA256_Update(ctx, bytes, count);
}

/// Writes the 32-byte digest to `out`; `ctx` is cleared afterwards. Returns 1 on success.
static inline int clibcrypto_sha256_final(SHA256_CTX *ctx, unsigned char *out) {
    return SHA256_Final(out, ctx);
}

/// True when a restored context is plausible: a 32-byte digest and a partial block under 64 bytes.
static inline int clibcrypto_sha256_is_valid(const SHA256_CTX *ctx) {
    return ctx->md_len == SHA256_DIGEST_LENGTH && ctx->num < SHA256_CBLOCK;
}

#pragma GCC diagnostic pop

#endif
