terraform {
  required_providers {
    auth0 = {
      source  = "auth0/auth0"
      version = ">= 1.52.0"
    }
  }
}
