/*
 * SPDX-License-Identifier: MIT
 *
 * A program without the library, built like static-link.c: the global
 * symbols it defines are the toolchain's (crt files, main), which
 * check-abi.py subtracts from those of the statically linked program.
 */
int main(void)
{
	return 0;
}
