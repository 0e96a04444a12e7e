package store

import (
	"strings"
	"time"
)

// Key prefixes. Every key of a site starts with "S#<site>#"; a site id never
// contains '#', so one site's keys can never be read as another's.
//
// Inside a contact's partition, the sort keys order as
//
//	CREDENTIAL < EVENT#... < NOTE#... < OFFER#... < PRODUCT#... < PROFILE
//	  < PURCHASE#... < REFUND#... < TAG#...
//
// so the profile reads its non-event items with one range (SK > "EVENT#~")
// that skips the lifecycle and never touches the credential.
const (
	skProfile    = "PROFILE"
	skClaim      = "CLAIM"
	skEventPre   = "EVENT#"
	skEventAfter = "EVENT#~" // sorts after every EVENT#<time> key
	skNotePre    = "NOTE#"
	skTagPre     = "TAG#"
	skPurchase   = "PURCHASE#"
	skProduct    = "PRODUCT#"
	skOffer      = "OFFER#"
	skRefund     = "REFUND#"
	skSent       = "SENT#"
	skMessage    = "MESSAGE"
	skResetPre   = "RESET#"
	skToken      = "TOKEN"
	skCredential = "CREDENTIAL"
	skSettings   = "SETTINGS"
)

func sitePrefix(site string) string { return "S#" + site + "#" }

// contactPK is the partition holding a contact's profile and everything on it.
func contactPK(site, id string) string { return "S#" + site + "#C#" + id }

// emailClaimPK is the item that makes an email unique within a site.
func emailClaimPK(site, emailKey string) string { return "S#" + site + "#EMAIL#" + emailKey }

// sitePK is the partition of per-site items: settings and the tag registry.
func sitePK(site string) string { return "S#" + site }

func noteSK(id string) string { return skNotePre + id }
func tagSK(tag string) string { return skTagPre + tag }

// eventSK orders lifecycle entries by time, then id.
func eventSK(at, id string) string { return skEventPre + at + "#" + id }

// listPK is GSI1's partition for a site's contacts (newest first by GSI1SK).
func listPK(site string) string { return "S#" + site + "#CONTACTS" }

// tagListPK is GSI1's partition for a site's contacts carrying one tag.
func tagListPK(site, tag string) string { return "S#" + site + "#TAG#" + tag }

// listSK sorts contacts by when they were added, then by id.
func listSK(addedAt, id string) string { return addedAt + "#" + id }

// searchPK is the partition of GSI2 (email keys) and GSI3 (name keys).
func searchPK(site string) string { return "S#" + site + "#CONTACTS" }

// nameSK is GSI3's sort key: the lower-cased name, then the id.
func nameSK(nameKey, id string) string { return nameKey + "#" + id }

// belongsTo reports whether key is one of site's keys.
func belongsTo(key, site string) bool {
	return strings.HasPrefix(key, sitePrefix(site)) || key == sitePK(site)
}

// extClaimPK makes an external user id unique within a site.
func extClaimPK(site, ext string) string { return "S#" + site + "#EXT#" + ext }

// orderClaimPK records a checkout order id once: it makes purchases idempotent.
func orderClaimPK(site, orderID string) string { return "S#" + site + "#ORDER#" + orderID }

// purchaseClaimPK finds a purchase's contact from the purchase id alone.
func purchaseClaimPK(site, purchaseID string) string { return "S#" + site + "#PURCHASE#" + purchaseID }

func purchaseSK(id string) string { return skPurchase + id }
func productSK(id string) string  { return skProduct + id }
func offerSK(id string) string    { return skOffer + id }

// refundSK scopes a refund id to its purchase: the same refund id on two
// purchases names two refunds.
func refundSK(purchaseID, refundID string) string { return skRefund + purchaseID + "#" + refundID }
func revenueAttr(currency string) string          { return "rev_" + currency }

// sentMessagePK finds a message this product sent from its SES message id,
// which is all an identity notification carries.
func sentMessagePK(messageID string) string { return "MSG#" + messageID }

func sentSK(messageID string) string { return skSent + messageID }

// resetTokenPK finds a password reset token by the SHA-256 of the token.
func resetTokenPK(site, tokenHash string) string { return "S#" + site + "#RESET#" + tokenHash }

func resetSK(tokenHash string) string { return skResetPre + tokenHash }

// rateSK is a rate-limit counter's window, by its start.
func rateSK(start time.Time) string { return "WINDOW#" + formatTime(start) }
