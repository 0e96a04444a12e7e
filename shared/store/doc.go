// Package store keeps contacts in one DynamoDB table (single-table design).
// It implements contacts.Store; DynamoDB's types and errors never leave it.
//
// # Table
//
// Keys are PK and SK (strings). Three global secondary indexes, all
// projecting every attribute: GSI1 (GSI1PK, GSI1SK), GSI2 (GSI2PK, GSI2SK),
// GSI3 (GSI3PK, GSI3SK). TTL attribute: expiresAt (epoch seconds).
//
//	entity          PK                          SK                        index keys
//	profile         S#<site>#C#<id>             PROFILE                   GSI1 S#<site>#CONTACTS / <addedAt>#<id>   (list, newest first)
//	                                                                      GSI2 S#<site>#CONTACTS / <email key>      (email prefix search)
//	                                                                      GSI3 S#<site>#CONTACTS / <name key>#<id>  (name prefix search)
//	email claim     S#<site>#EMAIL#<email key>  CLAIM                     -   (contactId; one email per site)
//	note            S#<site>#C#<id>             NOTE#<ulid>               -
//	tag on contact  S#<site>#C#<id>             TAG#<tag>                 GSI1 S#<site>#TAG#<tag> / <addedAt>#<id> (segment by tag)
//	lifecycle entry S#<site>#C#<id>             EVENT#<time>#<ulid>       -   (expiresAt: TTL)
//	tag registry    S#<site>                    TAG#<tag>                 -   (count of contacts with the tag)
//
// <email key> is the address trimmed, NFC-normalized and lower-cased;
// <addedAt> is UTC with nanoseconds at a fixed width, so it sorts as text.
//
// # Access patterns
//
//   - Profile: two Query calls in parallel on the contact's partition, one
//     for SK > "EVENT#~" (profile, notes, tags), one for the newest lifecycle
//     entries (SK begins_with EVENT#, descending, expired ones filtered out).
//   - List: GSI1 on S#<site>#CONTACTS descending; by tag: GSI1 on the tag's
//     partition, then BatchGetItem of the page's profiles; search: GSI2 then
//     GSI3 with begins_with, one cursor walking both.
//   - Writes that must agree (profile + email claim, tag + registry count)
//     are single TransactWriteItems calls with conditions.
//   - Delete: every item of the contact's partition, its claim, its tag
//     index items and its registry counts.
package store
