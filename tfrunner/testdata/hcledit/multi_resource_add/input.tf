resource "auth0_client" "billing" {
  name     = "billing"
  app_type = "non_interactive"

  jwt_configuration {
    alg = "RS256"
  }
}

resource "auth0_client" "reporting" {
  name     = "reporting"
  app_type = "non_interactive"

  jwt_configuration {
    alg = "RS256"
  }
}

resource "auth0_client" "payments" {
  name     = "payments"
  app_type = "non_interactive"

  jwt_configuration {
    alg = "RS256"
  }
}

resource "auth0_client_credentials" "billing" {
  client_id             = auth0_client.billing.client_id
  authentication_method = "private_key_jwt"

  private_key_jwt {
    credentials {
      name            = "billing-1"
      credential_type = "public_key"
      algorithm       = "RS256"
      pem             = <<EOF
-----BEGIN PUBLIC KEY-----
hIrQObDjwAcxTGIQl6KUzZkfHwxmzNIzupTo17p+m3TQHbT4Y/PR04PRuBZ1Tu6j
uRqhgbKrFnp6nKyR9Ep6dZHbCWggGXqZbJyK1Mh0MAzunQOIFj9EWR3wJUpkApFn
6AfgSjnZqZ5vylUPmWJANPyF4TMD4sz/nz+I8yzq1Ca0yk3jO8HA9+/nnmMKQJPB
PjM4Z+/EoSLGKSidEgh/p1mr6Jxw04g90Bq16G0Bs8i4iNUD2th+e7L8md1oKX7e
-----END PUBLIC KEY-----
EOF
    }
  }
}

resource "auth0_client_credentials" "reporting" {
  client_id             = auth0_client.reporting.client_id
  authentication_method = "private_key_jwt"

  private_key_jwt {
    credentials {
      name            = "reporting-1"
      credential_type = "public_key"
      algorithm       = "RS256"
      pem             = <<EOF
-----BEGIN PUBLIC KEY-----
re4YibqJD2ekb+COnKDg7v9UvwV1t+pm/K0I6Dcj/GnIZFlwfDFLLz0sbUd169Ub
iuWz2PFvh62sjaPHcdI5kQhyaok2b+cKf2gJ2iI/TKfKo+rwVuzsOw/GAXOg+BAy
Ad+UPTF8oU0kgDl27esylTLJnXZtcteHabl9UyX9qvkfZuXIZlW9mfls1texonyi
a1Tps9GBGgFQAz8hvevf6oBNKKht0HOwikTXGEkAQHfFCZ19KZNY/bJeV+qJWE0f
-----END PUBLIC KEY-----
EOF
    }
  }
}

resource "auth0_client_credentials" "payments" {
  client_id             = "pAyMeNtSgAtEwAy0004"
  authentication_method = "private_key_jwt"

  private_key_jwt {
    credentials {
      name            = "payments-1"
      credential_type = "public_key"
      algorithm       = "RS256"
      pem             = <<EOF
-----BEGIN PUBLIC KEY-----
UKGC/bzS9EYAR1zzIITJZbGJu3L52kaOmgx0O71XsgErPVKKDHMvfWiIY0KmO64u
jA5Ry+hGFcj1B9F9l7rfei3aFaW7RCkXkIlKXXDBOHPWACDlErxVtkVDh2dVTB6n
g/DDurwMyQVhdqRWEBbsRrmWZ837lac+zyrzsZa6ffT+cUF47TfwPQA3GwUXwx5c
zAfwngnUkaJaI22b/dQ8FPtEeGr8izi7fsqAU2QlrWf0Jab2wJQNjH4Th9W13/rb
-----END PUBLIC KEY-----
EOF
    }
  }
}
