package store

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"
)

func TestDeliveryRecordRoundTrip(t *testing.T) {
	at := time.Date(2026, 12, 6, 8, 30, 0, 123456789, time.UTC)
	for _, d := range []Delivery{
		{Key: "m:7321987654321098765", CreatedAt: at},
		{Key: "e:oCitizen:1796512225:subscribe", Done: true, CreatedAt: at, Reply: []byte("<xml>您好\n<a href=\"x\">1. 低保</a></xml>")},
		{Key: "", Done: true, CreatedAt: at},
	} {
		b, err := d.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		var got Delivery
		if err := got.UnmarshalBinary(b); err != nil {
			t.Fatalf("UnmarshalBinary(%q): %v", b, err)
		}
		if got.Key != d.Key || got.Done != d.Done || !got.CreatedAt.Equal(d.CreatedAt) || !bytes.Equal(got.Reply, d.Reply) {
			t.Errorf("round trip = %+v, want %+v", got, d)
		}
		// AppendBinary writes the same record behind what is there.
		a, err := d.AppendBinary([]byte("head"))
		if err != nil || string(a[:4]) != "head" || !bytes.Equal(a[4:], b) {
			t.Errorf("AppendBinary = %q, %v; want head%q", a, err, b)
		}
	}
	// A record an older version wrote as JSON still reads.
	old, _ := json.Marshal(Delivery{Key: "m:1", Done: true, CreatedAt: at, Reply: []byte("收到")})
	var got Delivery
	if err := got.UnmarshalBinary(old); err != nil || got.Key != "m:1" || string(got.Reply) != "收到" || !got.Done {
		t.Errorf("old JSON record = %+v, %v", got, err)
	}
	for _, bad := range [][]byte{nil, []byte("x"), []byte("d\x01short"), append([]byte("d\x00"), make([]byte, 8)...)} {
		if err := got.UnmarshalBinary(append(bad, 0xff, 0xff)); err == nil && len(bad) < 10 {
			t.Errorf("malformed record %q accepted", bad)
		}
	}
}
