package redisstore

import (
	"strings"
	"testing"
	"time"
)

// hashTag returns the part of key Redis Cluster hashes: the text between the
// first '{' and the next '}', when that is not empty.
func hashTag(key string) string {
	open := strings.IndexByte(key, '{')
	if open < 0 {
		return key
	}
	end := strings.IndexByte(key[open+1:], '}')
	if end <= 0 {
		return key
	}
	return key[open+1 : open+1+end]
}

// TestQueueKeysShareASlot checks that a queue's three keys hash alike, even
// for names with braces (which only make unrelated queues share a slot too).
func TestQueueKeysShareASlot(t *testing.T) {
	tests := []struct {
		name, queue string
	}{
		{"plain", "surveys"},
		{"closing brace in name", "a}b"},
		{"opening brace in name", "a{b"},
		{"chinese", "回访"},
	}
	k := keys{prefix: DefaultPrefix}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ks := k.queue(tt.queue)
			for _, key := range ks[1:] {
				if got, want := hashTag(key), hashTag(ks[0]); got != want {
					t.Errorf("hash tag of %q = %q, want %q (that of %q)", key, got, want, ks[0])
				}
			}
		})
	}
}

// TestTicketKeysShareASlot checks that every ticket and every ticket index
// hash alike, whatever the IDs and values (UpdateTicket's script may touch
// any of them), and that the two binding hashes do.
func TestTicketKeysShareASlot(t *testing.T) {
	k := keys{prefix: DefaultPrefix}
	tests := []struct {
		name string
		keys []string
	}{
		{"tickets and indexes", []string{
			k.ticket("MZ20250301-0001"),
			k.ticket("a{b}c"),
			k.ticketIndex(indexOwner, "officer-7"),
			k.ticketIndex(indexDepartment, "{relief}"),
			k.ticketIndex(indexCitizen, "o}x{y"),
			k.ticketIndex(indexCitizen, "民政"),
		}},
		{"bindings", k.bindings()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, key := range tt.keys[1:] {
				if got, want := hashTag(key), hashTag(tt.keys[0]); got != want {
					t.Errorf("hash tag of %q = %q, want %q (that of %q)", key, got, want, tt.keys[0])
				}
			}
		})
	}
}

func TestPXTTL(t *testing.T) {
	tests := []struct {
		in      time.Duration
		want    time.Duration
		wantErr bool
	}{
		{time.Hour, time.Hour, false},
		{1500 * time.Microsecond, 2 * time.Millisecond, false},
		{time.Nanosecond, time.Millisecond, false},
		{0, 0, true},
		{-time.Second, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.in.String(), func(t *testing.T) {
			got, err := pxTTL(tt.in)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("pxTTL(%v) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.wantErr)
			}
		})
	}
}
