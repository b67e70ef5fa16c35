#!/bin/sh
# A helper installed with the sample application.
echo "hello from hoist-sample"
