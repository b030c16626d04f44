package api

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/iqm-finland/authschema/internal/testsafe"
)

// TestHasByte: the word test finds b exactly, at every position, among every other
// byte value (no false positive, no false negative).
func TestHasByte(t *testing.T) {
	for _, b := range []byte{'%', '+', '&'} {
		for pos := 0; pos < 8; pos++ {
			for v := 0; v < 256; v++ {
				word := bytes.Repeat([]byte{'a'}, 8)
				word[pos] = byte(v)
				for fill := 0; fill < 256; fill += 51 { // the other bytes vary too
					for i := range word {
						if i != pos {
							word[i] = byte(fill)
						}
					}
					want := bytes.IndexByte(word, b) >= 0
					if got := hasByte(binary.LittleEndian.Uint64(word), b); got != want {
						t.Fatalf("hasByte(%q, %q) = %v", word, testsafe.Text(string(b)), testsafe.Value(got))
					}
				}
			}
		}
	}
}

// TestUnescapeAcrossWords: escapes, '&' and non-ASCII bytes at every offset of a
// long value decode as a byte-at-a-time decoder would.
func TestUnescapeAcrossWords(t *testing.T) {
	for off := 0; off < 20; off++ {
		for _, special := range []string{"%41", "+", "&", "\xc3\xa9", "%C3%A9", "%zz"} {
			s := []byte(string(bytes.Repeat([]byte{'x'}, off)) + special + "yyyyyyyyyyyy")
			got, n, ascii, ok := unescapeValue(nil, s)
			var want []byte
			wantOK, wantASCII, wantN := true, true, len(s)
			switch special {
			case "%41":
				want = []byte(string(bytes.Repeat([]byte{'x'}, off)) + "A" + "yyyyyyyyyyyy")
			case "+":
				want = []byte(string(bytes.Repeat([]byte{'x'}, off)) + " " + "yyyyyyyyyyyy")
			case "&":
				want, wantN = bytes.Repeat([]byte{'x'}, off), off
			case "\xc3\xa9", "%C3%A9":
				want, wantASCII = []byte(string(bytes.Repeat([]byte{'x'}, off))+"\xc3\xa9"+"yyyyyyyyyyyy"), false
			case "%zz":
				wantOK = false
			}
			if ok != wantOK || (ok && (string(got) != string(want) || n != wantN || ascii != wantASCII)) {
				t.Errorf("offset %d %q: %q n=%d ascii=%v ok=%v", off, special, testsafe.Value(got), n, ascii, ok)
			}
		}
	}
}
