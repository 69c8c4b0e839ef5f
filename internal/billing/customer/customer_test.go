package customer

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/vault/shamir"
	bolt "go.etcd.io/bbolt"
)

func TestMask(t *testing.T) {
	tests := []struct {
		in, want string
		f        func(string) string
	}{
		{"Ramesh Kumar", "R**** K****", MaskName},
		{"  lakshmi   devi rao ", "L**** D**** R****", MaskName},
		{"Ñandini", "Ñ****", MaskName},
		{"ramesh.k@example.in", "r****@example.in", MaskEmail},
		{"a@b.in", "a****@b.in", MaskEmail},
		{"0012345678", "XXXXXX5678", MaskAccount},
		{"123", "XXX", MaskAccount},
	}
	for _, tc := range tests {
		if got := tc.f(tc.in); got != tc.want {
			t.Errorf("mask(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	if got := GeneraliseAddress(Address{Street: "No. 12, 2nd Cross", Locality: "Jayanagar", City: "Bengaluru", PIN: "560041"}); got != "Jayanagar, Bengaluru 560041" {
		t.Errorf("address = %q", got)
	}
}

func TestMaskedHidesPII(t *testing.T) {
	for _, c := range Synthesize(7, 50, "kerc-lt2a-fy2025-26", "m-") {
		m := Mask(&c)
		shown := strings.Join([]string{m.Name, m.Email, m.Address, m.AccountNumber, m.Phone, m.ID}, "|")
		for _, secret := range []string{c.Name, c.Address.Street, c.AccountNumber, strings.Split(c.Email, "@")[0]} {
			if strings.Contains(shown, secret) {
				t.Fatalf("masked view %q shows %q", shown, secret)
			}
		}
		if m.Phone != c.Phone || m.ID != c.ID {
			t.Fatalf("phone and id must stay visible: %+v", m)
		}
	}
}

func TestValidate(t *testing.T) {
	base := Synthesize(1, 1, "kerc-lt2a-fy2025-26", "m-")[0]
	tests := []struct {
		name string
		edit func(*Customer)
		want string
	}{
		{"ok", func(*Customer) {}, ""},
		{"id", func(c *Customer) { c.ID = "a b" }, "customer id"},
		{"email", func(c *Customer) { c.Email = "Ramesh <r@x.in>" }, "e-mail"},
		{"phone", func(c *Customer) { c.Phone = "98450" }, "phone"},
		{"pin", func(c *Customer) { c.Address.PIN = "56004" }, "PIN code"},
		{"account", func(c *Customer) { c.AccountNumber = "12ab" }, "account number"},
		{"load", func(c *Customer) { c.SanctionedLoadW = 0 }, "sanctioned load"},
		{"meter", func(c *Customer) { c.MeterID = "" }, "meter id"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := base
			tc.edit(&c)
			err := c.Validate()
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "fix:") {
				t.Fatalf("err = %v, want ErrInvalid naming %q with a fix", err, tc.want)
			}
		})
	}
}

func TestSynthesizeDeterministic(t *testing.T) {
	a, b := Synthesize(42, 200, "t", "m-"), Synthesize(42, 200, "t", "m-")
	if !reflect.DeepEqual(a, b) {
		t.Fatal("same seed gave different customers")
	}
	if reflect.DeepEqual(a, Synthesize(43, 200, "t", "m-")) {
		t.Fatal("different seeds gave the same customers")
	}
	for _, c := range a {
		if err := c.Validate(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestCSVRoundTrip(t *testing.T) {
	cs := Synthesize(3, 20, "kerc-lt2a-fy2025-26", "m-")
	var buf bytes.Buffer
	if err := WriteCSV(&buf, cs); err != nil {
		t.Fatal(err)
	}
	got, err := ReadCSV(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, cs) {
		t.Fatalf("round trip changed customers")
	}
}

func TestCSVErrors(t *testing.T) {
	head := strings.Join(CSVHeader, ",") + "\n"
	row := "KA-1,Ramesh Kumar,r@example.in,+919845012345,\"No. 3, 1st Main\",Jayanagar,Bengaluru,560041,0012345678,1.5,kerc-lt2a-fy2025-26,m-0001\n"
	tests := []struct{ name, in, want string }{
		{"empty", "", "empty input"},
		{"missing column", "customer_id,name\n", `missing column "email"`},
		{"bad load", head + strings.Replace(row, ",1.5,", ",1.5kW,", 1), "line 2: sanctioned_load_kw"},
		{"bad pin", head + strings.Replace(row, "560041", "5600", 1), "line 2"},
		{"duplicate", head + row + row, "already on line 2"},
		{"short row", head + "a,b\n", "wrong number of fields"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadCSV(strings.NewReader(tc.in))
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "customer: ") {
				t.Fatalf("err = %v, want one containing %q", err, tc.want)
			}
		})
	}
	cs, err := ReadCSV(strings.NewReader(head + row))
	if err != nil || len(cs) != 1 || cs[0].SanctionedLoadW != 1500 || cs[0].Address.Street != "No. 3, 1st Main" {
		t.Fatalf("good row: %+v, %v", cs, err)
	}
}

func FuzzReadCSV(f *testing.F) {
	var buf bytes.Buffer
	if err := WriteCSV(&buf, Synthesize(5, 3, "kerc-lt2a-fy2025-26", "m-")); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Add([]byte(strings.Join(CSVHeader, ",") + "\nx,y\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cs, err := ReadCSV(bytes.NewReader(data))
		if err != nil {
			if !strings.HasPrefix(err.Error(), "customer: ") {
				t.Fatalf("error without package prefix: %v", err)
			}
			return
		}
		for _, c := range cs {
			if err := c.Validate(); err != nil {
				t.Fatalf("accepted an invalid customer: %v", err)
			}
		}
		var out bytes.Buffer
		if err := WriteCSV(&out, cs); err != nil {
			t.Fatal(err)
		}
		again, err := ReadCSV(&out)
		if err != nil || !reflect.DeepEqual(again, cs) {
			t.Fatalf("re-read of written CSV: %v", err)
		}
	})
}

// testStore opens a fresh registry with a 3-of-5 reveal quorum.
func testStore(t *testing.T) (*Store, [][]byte, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "billing.db")
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := Open(db, &Options{Rand: rand.Reader}); !errors.Is(err, ErrNotInitialised) {
		t.Fatalf("open before init: %v", err)
	}
	shares, err := Init(db, rand.Reader, 5, 3)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Init(db, rand.Reader, 5, 3); err == nil {
		t.Fatal("second Init accepted; it would orphan the officers' shares")
	}
	clock := time.Date(2026, 4, 1, 10, 0, 0, 0, time.UTC)
	s, err := Open(db, &Options{Rand: rand.Reader, ContactKey: bytes.Repeat([]byte{7}, 32), Now: func() time.Time { clock = clock.Add(time.Second); return clock }})
	if err != nil {
		t.Fatal(err)
	}
	return s, shares, path
}

func TestStoreEncryptsAtRest(t *testing.T) {
	s, _, path := testStore(t)
	cs := Synthesize(11, 30, "kerc-lt2a-fy2025-26", "m-")
	for _, c := range cs {
		if err := s.Put(c); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.db.Sync(); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cs {
		for _, secret := range []string{c.Name, c.Email, c.Address.Street, c.AccountNumber} {
			if bytes.Contains(raw, []byte(secret)) {
				t.Fatalf("database file contains PII %q in the clear", secret)
			}
		}
		if !bytes.Contains(raw, []byte(c.Phone)) {
			t.Fatalf("phone %s should be stored visible", c.Phone)
		}
	}
	if email, err := s.Contact(cs[3].ID); err != nil || email != cs[3].Email {
		t.Fatalf("Contact = %q, %v; want %q", email, err, cs[3].Email)
	}
	m, err := s.ByMeter(cs[4].MeterID)
	if err != nil || m.ID != cs[4].ID || m.Name != MaskName(cs[4].Name) {
		t.Fatalf("ByMeter = %+v, %v", m, err)
	}
	list, err := s.List()
	if err != nil || len(list) != len(cs) {
		t.Fatalf("List: %d, %v", len(list), err)
	}
	other := cs[5]
	other.MeterID = cs[4].MeterID
	if err := s.Put(other); err == nil || !strings.Contains(err.Error(), "already belongs") {
		t.Fatalf("meter reuse: %v", err)
	}
	if _, err := s.Get("nobody"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get unknown: %v", err)
	}
}

func officerShares(shares [][]byte, idx ...int) []Share {
	var out []Share
	for _, i := range idx {
		out = append(out, Share{Officer: "officer-" + string(rune('A'+i)), Share: shares[i]})
	}
	return out
}

func TestRevealQuorum(t *testing.T) {
	s, shares, _ := testStore(t)
	c := Synthesize(12, 1, "kerc-lt2a-fy2025-26", "m-")[0]
	if err := s.Put(c); err != nil {
		t.Fatal(err)
	}
	// Every 3 of the 5 officers can reveal.
	n := 0
	for a := 0; a < 5; a++ {
		for b := a + 1; b < 5; b++ {
			for d := b + 1; d < 5; d++ {
				got, err := s.Reveal(RevealRequest{CustomerID: c.ID, Reason: "complaint #12", Shares: officerShares(shares, a, b, d)})
				if err != nil {
					t.Fatalf("officers %d,%d,%d: %v", a, b, d, err)
				}
				if !reflect.DeepEqual(got, c) {
					t.Fatalf("revealed %+v, want %+v", got, c)
				}
				n++
			}
		}
	}
	// No 2 of them can, and the 2-share interpolation is not the key.
	for a := 0; a < 5; a++ {
		for b := a + 1; b < 5; b++ {
			got, err := s.Reveal(RevealRequest{CustomerID: c.ID, Reason: "curious", Shares: officerShares(shares, a, b)})
			if !errors.Is(err, ErrQuorum) || got != (Customer{}) {
				t.Fatalf("officers %d,%d revealed %+v (err %v)", a, b, got, err)
			}
			key, err := shamir.Combine([][]byte{shares[a], shares[b]})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.combine([]Share{{Share: shares[a]}, {Share: shares[b]}}); err == nil {
				t.Fatalf("two shares combined to the key %x", key)
			}
		}
	}
	// An altered share among three is refused.
	bad := officerShares(shares, 0, 1, 2)
	bad[2].Share = append([]byte{}, bad[2].Share...)
	bad[2].Share[0] ^= 1
	if _, err := s.Reveal(RevealRequest{CustomerID: c.ID, Reason: "x", Shares: bad}); !errors.Is(err, ErrQuorum) {
		t.Fatalf("altered share: %v", err)
	}
	// No reason, or one officer twice: refused.
	if _, err := s.Reveal(RevealRequest{CustomerID: c.ID, Shares: officerShares(shares, 0, 1, 2)}); err == nil {
		t.Fatal("reveal without a reason accepted")
	}
	dup := officerShares(shares, 0, 1, 2)
	dup[2].Officer = dup[0].Officer
	if _, err := s.Reveal(RevealRequest{CustomerID: c.ID, Reason: "x", Shares: dup}); err == nil {
		t.Fatal("one officer presenting two shares accepted")
	}

	log, err := s.Audit()
	if err != nil {
		t.Fatal(err)
	}
	granted, refused := 0, 0
	for _, e := range log {
		switch {
		case e.Outcome == "granted":
			granted++
		case strings.HasPrefix(e.Outcome, "refused: "):
			refused++
		}
	}
	if granted != n || refused != 10+3 || len(log) != granted+refused {
		t.Fatalf("audit: %d granted, %d refused of %d entries; want %d and 13", granted, refused, len(log), n)
	}
	if err := s.VerifyAudit(); err != nil {
		t.Fatal(err)
	}
}

func TestAuditTamperDetected(t *testing.T) {
	tests := []struct {
		name string
		edit func(b *bolt.Bucket) error
	}{
		{"alter", func(b *bolt.Bucket) error {
			k := binary.BigEndian.AppendUint64(nil, 2)
			return b.Put(k, bytes.Replace(b.Get(k), []byte("curious"), []byte("routine"), 1))
		}},
		{"delete", func(b *bolt.Bucket) error { return b.Delete(binary.BigEndian.AppendUint64(nil, 2)) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, _, _ := testStore(t)
			for range 3 {
				_, _ = s.Reveal(RevealRequest{CustomerID: "x", Reason: "curious"})
			}
			if err := s.VerifyAudit(); err != nil {
				t.Fatal(err)
			}
			if err := s.db.Update(func(tx *bolt.Tx) error { return tc.edit(tx.Bucket(bucketAudit)) }); err != nil {
				t.Fatal(err)
			}
			if err := s.VerifyAudit(); err == nil {
				t.Fatal("tampered audit log verified")
			}
		})
	}
}
