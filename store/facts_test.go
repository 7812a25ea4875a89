package store

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestTypeDigest checks that the facts version follows the shape of a
// type: fields, JSON names, kinds and nested fields, and nothing else.
func TestTypeDigest(t *testing.T) {
	type inner struct {
		Level int `json:"level"`
	}
	type base struct {
		ID     string    `json:"id"`
		At     time.Time `json:"at"`
		Rounds []inner   `json:"rounds"`
	}
	type same struct {
		ID     string    `json:"id"`
		At     time.Time `json:"at"`
		Rounds []inner   `json:"rounds"`
	}
	type added struct {
		ID     string    `json:"id"`
		At     time.Time `json:"at"`
		Rounds []inner   `json:"rounds"`
		Owner  string    `json:"owner"`
	}
	type renamed struct {
		ID     string    `json:"ticket_id"`
		At     time.Time `json:"at"`
		Rounds []inner   `json:"rounds"`
	}
	type innerAdded struct {
		Level int  `json:"level"`
		Bad   bool `json:"bad"`
	}
	type nested struct {
		ID     string       `json:"id"`
		At     time.Time    `json:"at"`
		Rounds []innerAdded `json:"rounds"`
	}
	want := typeDigest(reflect.TypeFor[base]())
	if len(want) != 16 {
		t.Fatalf("typeDigest = %q, want 16 hex digits", want)
	}
	if got := typeDigest(reflect.TypeFor[same]()); got != want {
		t.Errorf("a type of the same shape: digest %s, want %s", got, want)
	}
	for name, typ := range map[string]reflect.Type{
		"a field added":        reflect.TypeFor[added](),
		"a JSON name changed":  reflect.TypeFor[renamed](),
		"a nested field added": reflect.TypeFor[nested](),
	} {
		if got := typeDigest(typ); got == want {
			t.Errorf("%s: digest unchanged (%s)", name, got)
		}
	}
	if !strings.HasPrefix(FactsVersion(), typeDigest(reflect.TypeFor[Facts]())+".") {
		t.Errorf("FactsVersion does not start with the digest of Facts")
	}
}
