package store

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"slices"
	"time"
)

// deliveryFormat starts a delivery record in its binary form; a record
// that starts with '{' is the JSON form older versions wrote.
const deliveryFormat = 'd'

// MarshalBinary encodes a delivery compactly — a version byte, Done, the
// creation time, the key and the reply as they are — for the stores, which
// write one per message: JSON cost a marshal and a base64 of the reply on
// the webhook's path.
func (d Delivery) MarshalBinary() ([]byte, error) {
	return d.AppendBinary(make([]byte, 0, d.binarySize()))
}

// AppendBinary appends the record MarshalBinary makes to b, so that a
// store can write it behind a header of its own without a second copy of
// the reply.
func (d Delivery) AppendBinary(b []byte) ([]byte, error) {
	b = slices.Grow(b, d.binarySize())
	done := byte(0)
	if d.Done {
		done = 1
	}
	b = append(b, deliveryFormat, done)
	b = binary.BigEndian.AppendUint64(b, uint64(d.CreatedAt.UnixNano()))
	b = binary.AppendUvarint(b, uint64(len(d.Key)))
	b = append(b, d.Key...)
	return append(b, d.Reply...), nil
}

// binarySize bounds the length of the record MarshalBinary makes.
func (d Delivery) binarySize() int {
	return 2 + 8 + binary.MaxVarintLen64 + len(d.Key) + len(d.Reply)
}

// errDeliveryRecord reports a record that is neither form.
var errDeliveryRecord = errors.New("malformed delivery record")

// UnmarshalBinary decodes a record written by MarshalBinary, or the JSON
// form of older versions.
func (d *Delivery) UnmarshalBinary(b []byte) error {
	if len(b) > 0 && b[0] == '{' {
		return json.Unmarshal(b, d)
	}
	if len(b) < 10 || b[0] != deliveryFormat {
		return errDeliveryRecord
	}
	n, w := binary.Uvarint(b[10:])
	if w <= 0 || uint64(len(b)-10-w) < n {
		return errDeliveryRecord
	}
	key := b[10+w : 10+w+int(n)]
	reply := b[10+w+int(n):]
	*d = Delivery{Key: string(key), Done: b[1] == 1, CreatedAt: time.Unix(0, int64(binary.BigEndian.Uint64(b[2:10]))).UTC()}
	if len(reply) > 0 {
		d.Reply = append([]byte(nil), reply...)
	}
	return nil
}
