//! JWT signing keys: generation, encodings, JWKS (owned by the keys work).
