# (tests are being written)
