package receiver

import (
	"testing"
	"unsafe"
)

// TestExchangeSize: the exchange stays within the runtime's largest size class without
// a type header (see inlineBody).
func TestExchangeSize(t *testing.T) {
	if n := unsafe.Sizeof(exchange{}); n > 512 {
		t.Errorf("an exchange is %d bytes, over 512: shorten inlineBody", n)
	}
}
