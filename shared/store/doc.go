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
//	purchase/grant  S#<site>#C#<id>             PURCHASE#<ulid>           -   (amount in minor units, currency, refunded, status, grantedBy, endedBy)
//	product owned   S#<site>#C#<id>             PRODUCT#<product id>      -   (sources: the active purchases unlocking it; owned while not empty)
//	offer held      S#<site>#C#<id>             OFFER#<offer id>          -   (sources, as for products: a grant needs it empty)
//	refund          S#<site>#C#<id>             REFUND#<refund id>        -   (one per refund id: retries change nothing)
//	order claim     S#<site>#ORDER#<order id>   CLAIM                     -   (contactId, purchaseId: purchases are idempotent on the order id)
//	purchase claim  S#<site>#PURCHASE#<ulid>    CLAIM                     -   (contactId: finds a purchase from its id, for refunds)
//	external id     S#<site>#EXT#<external id>  CLAIM                     -   (contactId; one external user id per site)
//	sent message    MSG#<ses message id>        MESSAGE                   -   (site, contactId; expiresAt: 30 days) + pointer S#<site>#C#<id> / SENT#<id>
//	credential      S#<site>#C#<id>             CREDENTIAL                -   (argon2id hash; sorts before EVENT#, so no profile read sees it)
//	reset token     S#<site>#RESET#<sha256>     TOKEN                     -   (contactId; expiresAt: 30 minutes) + pointer S#<site>#C#<id> / RESET#<sha256>
//	rate limit      S#<site>#RL#EMAIL#<sha256>  WINDOW#<start>            -   (attempts; expiresAt: end of window); also S#<site>#RL#IP#<address>
//	site settings   S#<site>                    SETTINGS                  -   (url: the base of links in emails)
//
// The profile item also carries the customer's counters: purchasesCount,
// signInCount, lastActivityAt, customerSince and one rev_<currency> number
// per currency (net revenue in minor units), all changed with ADD/SET in the
// same transaction as the purchase, grant or refund that moves them.
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
//   - Delete: every item of the contact's partition, its claims (email,
//     external id, and the order and purchase claims of its purchases), its
//     tag index items and its registry counts.
package store
