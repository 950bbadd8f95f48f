module github.com/shmd/shmd/go

go 1.19
