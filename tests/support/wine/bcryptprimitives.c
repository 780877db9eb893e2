/*
 * A stand-in for Windows' bcryptprimitives.dll, for running roomshare.exe
 * under Wine 8 in tests only (scripts/wine-check.sh builds it with mingw-w64
 * into its throwaway Wine prefix; it is never shipped). Rust's standard
 * library on Windows imports ProcessPrng from bcryptprimitives.dll for its
 * random numbers (HashMap keys, ...). Wine 8 has no such DLL at all, so the
 * exe does not even start ("Library bcryptprimitives.dll ... not found",
 * status 53); Wine 9.0 adds it, with ProcessPrng. This one asks the system
 * RNG that Wine 8 does have, RtlGenRandom (advapi32's SystemFunction036).
 */
#include <windows.h>
#include <ntsecapi.h>

/* BOOL ProcessPrng(PBYTE pbData, SIZE_T cbData): always TRUE on Windows. */
__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
    while (len > 0) {
        /* RtlGenRandom takes a ULONG: feed it at most 1 MiB at a time. */
        ULONG chunk = len > (1u << 20) ? (1u << 20) : (ULONG)len;
        if (!RtlGenRandom(data, chunk))
            return FALSE;
        data += chunk;
        len -= chunk;
    }
    return TRUE;
}
