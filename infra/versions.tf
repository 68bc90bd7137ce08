# The ready root configuration: Terraform and provider versions, and the one AWS
# provider every resource of the audit-stream module is created with.

terraform {
  required_version = ">= 1.5"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.30"
    }
  }
}

provider "aws" {
  # null: the region of the environment or profile (AWS_REGION, ~/.aws/config).
  region = var.aws_region
}
