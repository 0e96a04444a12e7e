package store

import (
	"encoding/base64"
	"encoding/json"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/creator-platform/contacts/shared/apperr"
)

// cursor is what an opaque pagination cursor holds: the site it was issued
// to, the list it pages ("contacts", "search-email", "notes", ...) and the
// key to resume after. Every key attribute in this table is a string.
type cursor struct {
	Site string            `json:"s"`
	List string            `json:"l"`
	Key  map[string]string `json:"k"`
}

// encodeCursor returns the cursor for resuming after key, or nil when there
// is nothing more to read.
func encodeCursor(site, list string, k map[string]types.AttributeValue) *string {
	if len(k) == 0 {
		return nil
	}
	c := cursor{Site: site, List: list, Key: map[string]string{}}
	for name, v := range k {
		if s, ok := v.(*types.AttributeValueMemberS); ok {
			c.Key[name] = s.Value
		}
	}
	raw, _ := json.Marshal(c)
	out := base64.RawURLEncoding.EncodeToString(raw)
	return &out
}

// decodeCursor returns the start key a cursor holds. A cursor issued to
// another site or for another list, or one whose keys point outside the
// caller's site, is refused: cursors are bound to the caller's site.
func decodeCursor(s, site, list string) (map[string]types.AttributeValue, error) {
	if s == "" {
		return nil, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(raw) > 4096 {
		return nil, apperr.ErrInvalidCursor
	}
	var c cursor
	if err := json.Unmarshal(raw, &c); err != nil || c.Site != site || c.List != list || len(c.Key) == 0 {
		return nil, apperr.ErrInvalidCursor
	}
	k := make(map[string]types.AttributeValue, len(c.Key))
	for name, v := range c.Key {
		if strings.HasSuffix(name, "PK") && !belongsTo(v, site) {
			return nil, apperr.ErrInvalidCursor
		}
		k[name] = &types.AttributeValueMemberS{Value: v}
	}
	return k, nil
}
