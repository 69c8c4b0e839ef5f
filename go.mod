module github.com/ppnet/ppnet

go 1.26
