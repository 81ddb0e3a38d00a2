locals {
  m2m = {
    billing = {
      client_id = "billing-id"
      keys = [
        # The key in use since January.
        {
          name = "billing-a"
          pem  = trimspace(file("${path.module}/keys/billing-a.pem"))
        },
      ]
    }
    reporting = {
      client_id = "reporting-id"
      keys = [
        {
          name = "reporting-a"
          pem  = trimspace(file("${path.module}/keys/reporting-a.pem"))
        },
      ]
    }
  }
}

module "m2m" {
  source   = "./modules/m2m"
  for_each = local.m2m

  client_id = each.value.client_id
  keys      = each.value.keys
}
