/** Passwords that fooled the first-`@` redaction or made `new URL()` fail with the password in the error. */
export const HOSTILE_PASSWORDS = ['S3cr@tPr0d', 'a/b-S3cr', 'x#y-S3cr', 'q?r=1-S3cr', '50%off-S3cr', 'c:o:l:o:n-S3cr', 'p@ss/w#rd?%:@@'];
