/* users.h — fake people shaped like randomuser.me's API results.
 *
 * The generator connector's `users` kind builds each record here. Record i
 * of a run depends on (seed, i) alone: a splitmix64 stream is started from a
 * hash of the two, so any record can be rebuilt on its own, whatever batch
 * it falls into, on any machine (integer arithmetic only).
 *
 * Member order follows the seed's API exactly:
 *   gender, name{title,first,last},
 *   location{street{number,name},city,state,country,postcode,
 *            coordinates{latitude,longitude},timezone{offset,description}},
 *   email, login{uuid,username,password,salt,md5,sha1,sha256},
 *   dob{date,age}, registered{date,age}, phone, cell, id{name,value},
 *   picture{large,medium,thumbnail}, nat
 * postcode is an int for some nationalities and a string for others, and
 * id.value is null for some, as in the real API.
 */
#ifndef SL_GENERATOR_USERS_H
#define SL_GENERATOR_USERS_H

#include <stdint.h>

#include "core/arena.h"
#include "core/value.h"

/* Ages (dob.age, registered.age) are counted at this fixed instant,
 * 2026-01-01T00:00:00Z, not at the time of the run, so that records do not
 * change from one day to the next. */
#define SL_USERS_REFERENCE_EPOCH_S INT64_C(1767225600)

/* Builds user record `index` of the run seeded by `seed` into *out.
 * Generated text (email, uuid, dates, ...) and the object members live in
 * arena; strings taken from the word lists point at static, read-only data
 * (never freed, so they outlive any batch). Returns SL_OK or SL_ENOMEM. */
int sl_users_build_record(sl_arena *arena, uint64_t seed, uint64_t index, sl_value *out);

/* Writes the lowercase ASCII form of a UTF-8 name into out (at most
 * capacity bytes, not NUL-terminated) for use in e-mail addresses: Latin
 * letters lose their accents ("Zoé" -> "zoe", "Søren" -> "soren",
 * "Çetin" -> "cetin"), spaces and apostrophes are dropped, other scripts
 * are skipped. Returns the number of bytes written. */
size_t sl_users_fold_ascii(const char *name, char *out, size_t capacity);

#endif
