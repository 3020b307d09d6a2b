/* bcryptprimitives.dll for wine before 9.0 (Debian 12 ships wine 8.0), which lacks it.
 *
 * Rust's standard library (1.78 and later) takes its random HashMap keys from
 * ProcessPrng in bcryptprimitives.dll, present in every Windows since 10. Without the DLL
 * wine refuses to start the program (status c0000135). tests/windows.rs compiles this
 * file with x86_64-w64-mingw32-gcc into the test's wine prefix only; it is never shipped
 * and changes nothing on Windows. ProcessPrng is served by RtlGenRandom
 * (advapi32!SystemFunction036), which wine 8 has.
 */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length)
{
    while (length > 0) {
        ULONG n = length > 0x10000000 ? 0x10000000 : (ULONG)length;
        if (!SystemFunction036(data, n))
            return FALSE;
        data += n;
        length -= n;
    }
    return TRUE;
}
