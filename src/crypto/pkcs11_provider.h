// The pkcs11 KEK provider: each KEK version (and each key-backup key K_n, labelled
// "<prefix>-kb<N>") is an AES-256 secret key object generated INSIDE
// a PKCS#11 token (an HSM; SoftHSM2 in the tests) with CKA_TOKEN, CKA_SENSITIVE and
// CKA_PRIVATE true and CKA_EXTRACTABLE false, labelled "<prefix>-v<N>". Wrap is C_Encrypt
// with CKM_AES_GCM (a fresh random 96-bit IV from the process, 128-bit tag, the AAD of
// key_provider.h), unwrap is C_Decrypt: the KEK never leaves the token. The module (the
// vendor's shared library) is loaded at run time with dlopen through the standard PKCS#11 C
// API (p11-kit's pkcs11.h); Custos does not link against it.
//
// Thread safety: thread-safe. The module is initialised once per process (CKF_OS_LOCKING_OK)
// and shared; each call takes a session of its own from a small pool.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "core/status.h"
#include "crypto/key_provider.h"

namespace custos::crypto {

struct Pkcs11Options {
  std::filesystem::path module;  // e.g. /usr/lib/softhsm/libsofthsm2.so
  std::string token_label;       // the token to use (its CKA label, up to 32 bytes)
  std::string key_label_prefix = "custos-kek";
  std::string pin;  // the user PIN; callers read it from the environment, never a file
};

// The label of KEK version `version`: "<prefix>-v<version>".
std::string Pkcs11KeyLabel(const Pkcs11Options& options, uint32_t version);
// The label of the key-backup key K_n (key_provider.h): "<prefix>-kb<epoch>".
std::string Pkcs11BackupKeyLabel(const Pkcs11Options& options, uint32_t epoch);

// Loads the module, finds the token, logs in and finds the key object of `active_version`.
// Unavailable if the module cannot be loaded or initialised; NotFound if no token has the
// label or the key object is missing; Unauthenticated on a wrong PIN; InvalidArgument on an
// empty PIN or label.
Result<std::unique_ptr<KeyProvider>> OpenPkcs11Provider(const Pkcs11Options& options,
                                                        uint32_t active_version);
// As above after generating version 1's key object (`custos init`). Conflict if the token
// already holds an object with that label (another vault's KEK must never be adopted).
Result<std::unique_ptr<KeyProvider>> CreatePkcs11Provider(const Pkcs11Options& options);

// What the token says about a KEK object, for tests and `custos key status` audits.
struct Pkcs11KeyFacts {
  bool token = false;          // CKA_TOKEN: persistent
  bool sensitive = false;      // CKA_SENSITIVE
  bool extractable = true;     // CKA_EXTRACTABLE
  bool value_readable = true;  // whether C_GetAttributeValue(CKA_VALUE) returned the key
};
// NotFound if the object is missing; the other errors of OpenPkcs11Provider.
Result<Pkcs11KeyFacts> InspectPkcs11Key(const Pkcs11Options& options, uint32_t version);

}  // namespace custos::crypto
