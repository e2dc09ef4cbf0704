#!/bin/sh
# The C host example with the scalar kernel forced through the API.
exec ./examples/host scalar
