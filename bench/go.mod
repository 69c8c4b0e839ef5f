module github.com/ppnet/ppnet/bench

go 1.26.0

replace github.com/ppnet/ppnet => ../

require (
	github.com/cloudflare/circl v1.6.5
	github.com/hashicorp/vault v1.21.4
	github.com/ppnet/ppnet v0.0.0-00010101000000-000000000000
)

require (
	github.com/bwesterb/go-ristretto v1.2.4 // indirect
	golang.org/x/crypto v0.58.0 // indirect
	golang.org/x/sys v0.49.0 // indirect
)
