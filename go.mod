module rekey

go 1.26

require github.com/golang-jwt/jwt/v5 v5.3.1

require github.com/auth0/go-auth0 v1.35.0 // indirect
