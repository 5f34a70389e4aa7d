// The pkcs11 KEK provider. See pkcs11_provider.h; comments here say why.
#include "crypto/pkcs11_provider.h"

#include <dlfcn.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <mutex>
#include <vector>

#include "crypto/internal/framed.h"
#include "crypto/internal/versioned_kek.h"

// The GNU names of p11-kit's header: its compatibility names are macros (value, count,
// params, ...) that would rewrite unrelated code.
#define CRYPTOKI_GNU 1
#include <p11-kit/pkcs11.h>

namespace custos::crypto {
namespace {

constexpr size_t kIvSize = 12;
constexpr size_t kTagSize = 16;
constexpr unsigned long kKeyBytes = 32;
unsigned char kTrue = 1;
unsigned char kFalse = 0;

std::string Hex(ck_rv_t rv) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "0x%lx", rv);
  return buf;
}

Status Failed(std::string_view what, ck_rv_t rv) {
  const std::string msg = std::string("pkcs11: ") + std::string(what) + ": CKR " + Hex(rv);
  switch (rv) {
    case CKR_PIN_INCORRECT:
    case CKR_PIN_LEN_RANGE:
      return Unauthenticated("pkcs11: the token refused the PIN");
    case CKR_TOKEN_NOT_PRESENT:
    case CKR_DEVICE_REMOVED:
    case CKR_DEVICE_ERROR:
    case CKR_DEVICE_MEMORY:
    case CKR_SESSION_CLOSED:
    case CKR_SESSION_HANDLE_INVALID:
      return Unavailable(msg);
    default:
      return Internal(msg);
  }
}

// A loaded, initialised module; one per library path per process, because C_Initialize and
// C_Finalize are process-wide.
class Module {
 public:
  static Result<std::shared_ptr<Module>> Get(const std::filesystem::path& path) {
    static std::mutex mu;
    static std::map<std::string, std::weak_ptr<Module>> loaded;
    std::lock_guard lock(mu);
    if (auto m = loaded[path.string()].lock()) return m;
    void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) {
      return Unavailable("pkcs11: cannot load module '" + path.string() + "'");
    }
    auto get_list = reinterpret_cast<CK_C_GetFunctionList>(::dlsym(handle, "C_GetFunctionList"));
    struct ck_function_list* fl = nullptr;
    if (get_list == nullptr || get_list(&fl) != CKR_OK || fl == nullptr) {
      ::dlclose(handle);
      return Unavailable("pkcs11: '" + path.string() + "' is not a PKCS#11 module");
    }
    struct ck_c_initialize_args args {};
    args.flags = CKF_OS_LOCKING_OK;
    const ck_rv_t rv = fl->C_Initialize(&args);
    if (rv != CKR_OK && rv != CKR_CRYPTOKI_ALREADY_INITIALIZED) {
      ::dlclose(handle);
      return Failed("C_Initialize", rv);
    }
    auto m = std::shared_ptr<Module>(new Module(handle, fl, rv == CKR_OK));
    loaded[path.string()] = m;
    return m;
  }
  ~Module() {
    if (finalize_) fl_->C_Finalize(nullptr);
    ::dlclose(handle_);
  }
  struct ck_function_list* fl() const {
    return fl_;
  }

 private:
  Module(void* handle, struct ck_function_list* fl, bool finalize)
      : handle_(handle), fl_(fl), finalize_(finalize) {}
  void* handle_;
  struct ck_function_list* fl_;
  bool finalize_;
};

// A token of a module, logged in, with a pool of sessions (a PKCS#11 session runs one
// operation at a time; a pool lets threads wrap and unwrap in parallel).
class Token {
 public:
  static Result<std::shared_ptr<Token>> Open(const Pkcs11Options& o) {
    if (o.pin.empty()) return InvalidArgument("pkcs11: the PIN is empty (set the PIN variable)");
    if (o.token_label.empty() || o.token_label.size() > 32) {
      return InvalidArgument("pkcs11: the token label must be 1 to 32 bytes");
    }
    CUSTOS_ASSIGN_OR_RETURN(auto module, Module::Get(o.module));
    auto* fl = module->fl();
    unsigned long n = 0;
    ck_rv_t rv = fl->C_GetSlotList(kTrue, nullptr, &n);
    if (rv != CKR_OK) return Failed("C_GetSlotList", rv);
    std::vector<ck_slot_id_t> slots(n);
    rv = fl->C_GetSlotList(kTrue, slots.data(), &n);
    if (rv != CKR_OK) return Failed("C_GetSlotList", rv);
    slots.resize(n);
    for (ck_slot_id_t slot : slots) {
      struct ck_token_info info {};
      if (fl->C_GetTokenInfo(slot, &info) != CKR_OK) continue;
      // Labels are blank-padded to 32 bytes.
      std::string label(reinterpret_cast<const char*>(info.label), sizeof info.label);
      label.erase(label.find_last_not_of(' ') + 1);
      if (label != o.token_label) continue;
      auto token = std::shared_ptr<Token>(new Token(std::move(module), slot));
      CUSTOS_RETURN_IF_ERROR(token->Login(o.pin));
      return token;
    }
    return NotFound("pkcs11: no token labelled '" + o.token_label + "'");
  }

  ~Token() {
    for (ck_session_handle_t s : idle_) module_->fl()->C_CloseSession(s);
    if (login_session_ != 0) module_->fl()->C_CloseSession(login_session_);
  }

  // A session for one operation, returned to the pool when the lease ends.
  class Lease {
   public:
    Lease(Token& t, ck_session_handle_t s) : token_(t), session_(s) {}
    ~Lease() { token_.Give(session_); }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ck_session_handle_t get() const { return session_; }

   private:
    Token& token_;
    ck_session_handle_t session_;
  };

  Result<std::unique_ptr<Lease>> Take() {
    {
      std::lock_guard lock(mu_);
      if (!idle_.empty()) {
        const ck_session_handle_t s = idle_.back();
        idle_.pop_back();
        return std::make_unique<Lease>(*this, s);
      }
    }
    ck_session_handle_t s = 0;
    const ck_rv_t rv =
        fl()->C_OpenSession(slot_, CKF_SERIAL_SESSION | CKF_RW_SESSION, nullptr, nullptr, &s);
    if (rv != CKR_OK) return Failed("C_OpenSession", rv);
    return std::make_unique<Lease>(*this, s);
  }

  struct ck_function_list* fl() const {
    return module_->fl();
  }

  // The secret key object with this label; NotFound when there is none.
  Result<ck_object_handle_t> Find(const std::string& label) {
    CUSTOS_ASSIGN_OR_RETURN(auto lease, Take());
    ck_object_class_t cls = CKO_SECRET_KEY;
    struct ck_attribute tmpl[] = {
        {CKA_CLASS, &cls, sizeof cls},
        {CKA_LABEL, const_cast<char*>(label.data()), label.size()},
    };
    ck_rv_t rv = fl()->C_FindObjectsInit(lease->get(), tmpl, 2);
    if (rv != CKR_OK) return Failed("C_FindObjectsInit", rv);
    ck_object_handle_t found[2];
    unsigned long n = 0;
    rv = fl()->C_FindObjects(lease->get(), found, 2, &n);
    fl()->C_FindObjectsFinal(lease->get());
    if (rv != CKR_OK) return Failed("C_FindObjects", rv);
    if (n == 0) return NotFound("pkcs11: no key object labelled '" + label + "'");
    if (n > 1) return FailedPrecondition("pkcs11: two key objects labelled '" + label + "'");
    return found[0];
  }

  // An AES-256 key generated in the token, never extractable.
  Result<ck_object_handle_t> Generate(const std::string& label) {
    CUSTOS_ASSIGN_OR_RETURN(auto lease, Take());
    ck_object_class_t cls = CKO_SECRET_KEY;
    ck_key_type_t type = CKK_AES;
    unsigned long len = kKeyBytes;
    struct ck_attribute tmpl[] = {
        {CKA_CLASS, &cls, sizeof cls},
        {CKA_KEY_TYPE, &type, sizeof type},
        {CKA_VALUE_LEN, &len, sizeof len},
        {CKA_LABEL, const_cast<char*>(label.data()), label.size()},
        {CKA_TOKEN, &kTrue, 1},
        {CKA_PRIVATE, &kTrue, 1},
        {CKA_SENSITIVE, &kTrue, 1},
        {CKA_EXTRACTABLE, &kFalse, 1},
        {CKA_ENCRYPT, &kTrue, 1},
        {CKA_DECRYPT, &kTrue, 1},
        {CKA_WRAP, &kFalse, 1},
        {CKA_UNWRAP, &kFalse, 1},
    };
    struct ck_mechanism mech {
      CKM_AES_KEY_GEN, nullptr, 0
    };
    ck_object_handle_t key = 0;
    const ck_rv_t rv =
        fl()->C_GenerateKey(lease->get(), &mech, tmpl, sizeof tmpl / sizeof tmpl[0], &key);
    if (rv != CKR_OK) return Failed("C_GenerateKey", rv);
    return key;
  }

  Status Destroy(ck_object_handle_t key) {
    CUSTOS_ASSIGN_OR_RETURN(auto lease, Take());
    const ck_rv_t rv = fl()->C_DestroyObject(lease->get(), key);
    if (rv != CKR_OK) return Failed("C_DestroyObject", rv);
    return Status::Ok();
  }

  // GCM encrypt (decrypt = false) or decrypt of `in` under `key`. The output of encryption
  // is ciphertext || tag.
  Result<SecretBytes> Gcm(bool encrypt, ck_object_handle_t key, ByteView iv, ByteView aad,
                          ByteView in) {
    CUSTOS_ASSIGN_OR_RETURN(auto lease, Take());
    struct ck_gcm_params params {};
    params.iv_ptr = const_cast<unsigned char*>(iv.data());
    params.iv_len = iv.size();
    params.iv_bits = iv.size() * 8;
    params.aad_ptr = const_cast<unsigned char*>(aad.data());
    params.aad_len = aad.size();
    params.tag_bits = kTagSize * 8;
    struct ck_mechanism mech {
      CKM_AES_GCM, &params, sizeof params
    };
    ck_rv_t rv = encrypt ? fl()->C_EncryptInit(lease->get(), &mech, key)
                         : fl()->C_DecryptInit(lease->get(), &mech, key);
    if (rv != CKR_OK) return Failed(encrypt ? "C_EncryptInit" : "C_DecryptInit", rv);
    // Room for the tag either way (some modules ask for it when decrypting too).
    SecretBytes out(in.size() + kTagSize);
    unsigned long out_len = out.size();
    auto* data = const_cast<unsigned char*>(in.data());
    rv = encrypt ? fl()->C_Encrypt(lease->get(), data, in.size(), out.data(), &out_len)
                 : fl()->C_Decrypt(lease->get(), data, in.size(), out.data(), &out_len);
    if (rv != CKR_OK) {
      if (!encrypt && rv != CKR_DEVICE_ERROR && rv != CKR_DEVICE_REMOVED &&
          rv != CKR_SESSION_CLOSED && rv != CKR_TOKEN_NOT_PRESENT) {
        // A tag that does not verify: altered, or bound to other associated data.
        return DataLoss("wrapped key does not authenticate under the HSM KEK");
      }
      return Failed(encrypt ? "C_Encrypt" : "C_Decrypt", rv);
    }
    out.resize(out_len);
    return out;
  }

  // CKA_TOKEN, CKA_SENSITIVE, CKA_EXTRACTABLE and whether CKA_VALUE can be read.
  Result<Pkcs11KeyFacts> Facts(ck_object_handle_t key) {
    CUSTOS_ASSIGN_OR_RETURN(auto lease, Take());
    unsigned char token = 0, sensitive = 0, extractable = 1;
    struct ck_attribute flags[] = {
        {CKA_TOKEN, &token, 1}, {CKA_SENSITIVE, &sensitive, 1}, {CKA_EXTRACTABLE, &extractable, 1}};
    ck_rv_t rv = fl()->C_GetAttributeValue(lease->get(), key, flags, 3);
    if (rv != CKR_OK) return Failed("C_GetAttributeValue", rv);
    SecretBytes value(64);
    struct ck_attribute v {
      CKA_VALUE, value.data(), value.size()
    };
    rv = fl()->C_GetAttributeValue(lease->get(), key, &v, 1);
    Pkcs11KeyFacts f;
    f.token = token != 0;
    f.sensitive = sensitive != 0;
    f.extractable = extractable != 0;
    f.value_readable = rv == CKR_OK && v.value_len != static_cast<unsigned long>(-1);
    return f;
  }

 private:
  Token(std::shared_ptr<Module> module, ck_slot_id_t slot)
      : module_(std::move(module)), slot_(slot) {}

  // PKCS#11 login state belongs to the application and lasts while any session is open: one
  // session is kept open for the provider's life.
  Status Login(const std::string& pin) {
    ck_rv_t rv = fl()->C_OpenSession(slot_, CKF_SERIAL_SESSION | CKF_RW_SESSION, nullptr, nullptr,
                                     &login_session_);
    if (rv != CKR_OK) return Failed("C_OpenSession", rv);
    std::string copy = pin;
    rv = fl()->C_Login(login_session_, CKU_USER, reinterpret_cast<unsigned char*>(copy.data()),
                       copy.size());
    std::fill(copy.begin(), copy.end(), '\0');
    if (rv != CKR_OK && rv != CKR_USER_ALREADY_LOGGED_IN) return Failed("C_Login", rv);
    return Status::Ok();
  }

  void Give(ck_session_handle_t s) {
    std::lock_guard lock(mu_);
    idle_.push_back(s);
  }

  const std::shared_ptr<Module> module_;
  const ck_slot_id_t slot_;
  ck_session_handle_t login_session_ = 0;
  std::mutex mu_;
  std::vector<ck_session_handle_t> idle_;
};

class Pkcs11Key final : public KekKey {
 public:
  Pkcs11Key(std::shared_ptr<Token> token, ck_object_handle_t key)
      : token_(std::move(token)), key_(key) {}

  Status Seal(ByteView aad, const SecretBytes& plaintext, Bytes& out) const override {
    const Bytes iv = RandomBytes(kIvSize);
    CUSTOS_ASSIGN_OR_RETURN(SecretBytes sealed, token_->Gcm(true, key_, iv, aad, plaintext));
    if (sealed.size() != plaintext.size() + kTagSize) {
      return Internal("pkcs11: C_Encrypt returned an unexpected length");
    }
    out.insert(out.end(), iv.begin(), iv.end());
    out.insert(out.end(), sealed.begin(), sealed.end());
    return Status::Ok();
  }

  Result<SecretBytes> Open(ByteView aad, ByteView framed_bytes) const override {
    if (framed_bytes.size() < kIvSize + kTagSize) return DataLoss("wrapped key is truncated");
    return token_->Gcm(false, key_, framed_bytes.first(kIvSize), aad,
                       framed_bytes.subspan(kIvSize));
  }

 private:
  const std::shared_ptr<Token> token_;
  const ck_object_handle_t key_;
};

class Pkcs11Source final : public KekSource {
 public:
  Pkcs11Source(std::shared_ptr<Token> token, Pkcs11Options options)
      : token_(std::move(token)), options_(std::move(options)) {
    options_.pin.assign(options_.pin.size(), '\0');  // not needed after login
    options_.pin.clear();
  }

  Result<std::unique_ptr<KekKey>> Load(uint32_t version) override {
    CUSTOS_ASSIGN_OR_RETURN(ck_object_handle_t key,
                            token_->Find(Pkcs11KeyLabel(options_, version)));
    return std::unique_ptr<KekKey>(std::make_unique<Pkcs11Key>(token_, key));
  }
  Result<std::unique_ptr<KekKey>> Create(uint32_t version) override {
    const std::string label = Pkcs11KeyLabel(options_, version);
    Result<ck_object_handle_t> key = token_->Find(label);
    if (key.status().code() == Code::kNotFound) key = token_->Generate(label);
    CUSTOS_RETURN_IF_ERROR(key.status());
    return std::unique_ptr<KekKey>(std::make_unique<Pkcs11Key>(token_, *key));
  }
  Status Destroy(uint32_t version) override {
    Result<ck_object_handle_t> key = token_->Find(Pkcs11KeyLabel(options_, version));
    if (key.status().code() == Code::kNotFound) return Status::Ok();
    CUSTOS_RETURN_IF_ERROR(key.status());
    return token_->Destroy(*key);
  }
  bool Exists(uint32_t version) const override {
    return token_->Find(Pkcs11KeyLabel(options_, version)).ok();
  }

  // K_n: a token object like a KEK version, under its own label.
  bool SupportsBackupKeys() const override { return true; }
  Result<std::unique_ptr<KekKey>> LoadBackupKey(uint32_t epoch) override {
    CUSTOS_ASSIGN_OR_RETURN(ck_object_handle_t key,
                            token_->Find(Pkcs11BackupKeyLabel(options_, epoch)));
    return std::unique_ptr<KekKey>(std::make_unique<Pkcs11Key>(token_, key));
  }
  Result<std::unique_ptr<KekKey>> CreateBackupKey(uint32_t epoch) override {
    const std::string label = Pkcs11BackupKeyLabel(options_, epoch);
    Result<ck_object_handle_t> key = token_->Find(label);
    if (key.status().code() == Code::kNotFound) key = token_->Generate(label);
    CUSTOS_RETURN_IF_ERROR(key.status());
    return std::unique_ptr<KekKey>(std::make_unique<Pkcs11Key>(token_, *key));
  }
  Status DestroyBackupKey(uint32_t epoch) override {
    Result<ck_object_handle_t> key = token_->Find(Pkcs11BackupKeyLabel(options_, epoch));
    if (key.status().code() == Code::kNotFound) return Status::Ok();
    CUSTOS_RETURN_IF_ERROR(key.status());
    return token_->Destroy(*key);
  }
  bool BackupKeyExists(uint32_t epoch) const override {
    return token_->Find(Pkcs11BackupKeyLabel(options_, epoch)).ok();
  }

 private:
  const std::shared_ptr<Token> token_;
  Pkcs11Options options_;
};

}  // namespace

std::string Pkcs11KeyLabel(const Pkcs11Options& options, uint32_t version) {
  return options.key_label_prefix + "-v" + std::to_string(version);
}

std::string Pkcs11BackupKeyLabel(const Pkcs11Options& options, uint32_t epoch) {
  return options.key_label_prefix + "-kb" + std::to_string(epoch);
}

Result<std::unique_ptr<KeyProvider>> OpenPkcs11Provider(const Pkcs11Options& options,
                                                        uint32_t active_version) {
  if (options.key_label_prefix.empty()) return InvalidArgument("pkcs11: key label is empty");
  CUSTOS_ASSIGN_OR_RETURN(auto token, Token::Open(options));
  return NewVersionedKek("pkcs11", std::make_unique<Pkcs11Source>(token, options), active_version);
}

Result<std::unique_ptr<KeyProvider>> CreatePkcs11Provider(const Pkcs11Options& options) {
  if (options.key_label_prefix.empty()) return InvalidArgument("pkcs11: key label is empty");
  CUSTOS_ASSIGN_OR_RETURN(auto token, Token::Open(options));
  const std::string label = Pkcs11KeyLabel(options, 1);
  Result<ck_object_handle_t> existing = token->Find(label);
  if (existing.ok()) {
    return Conflict("pkcs11: the token already holds a key labelled '" + label +
                    "'; choose another pkcs11_key_label");
  }
  if (existing.status().code() != Code::kNotFound) return existing.status();
  CUSTOS_RETURN_IF_ERROR(token->Generate(label).status());
  return NewVersionedKek("pkcs11", std::make_unique<Pkcs11Source>(token, options), 1);
}

Result<Pkcs11KeyFacts> InspectPkcs11Key(const Pkcs11Options& options, uint32_t version) {
  CUSTOS_ASSIGN_OR_RETURN(auto token, Token::Open(options));
  CUSTOS_ASSIGN_OR_RETURN(ck_object_handle_t key, token->Find(Pkcs11KeyLabel(options, version)));
  return token->Facts(key);
}

}  // namespace custos::crypto
