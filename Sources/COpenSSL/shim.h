// SHA-256 from the system's libcrypto (OpenSSL 3): the one-shot SHA256(),
// which OpenSSL 3 keeps (only the low-level SHA256_Init family is deprecated).
#include <openssl/sha.h>
