# Index tests (issue 3) are listed here.
