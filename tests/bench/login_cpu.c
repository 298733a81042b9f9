/* The client CPU of N libpq logins in one process, as a long-running exporter pays it: libpq and OpenSSL are
 * initialised once, then each login runs the authentication exchange (for SCRAM, PBKDF2 with 4096 HMAC-SHA-256
 * iterations). Prints the CPU time (user + system) per login in ms. The bench runs it for a SCRAM role and for a
 * trust role; the difference is what SCRAM costs the client.
 *
 *   login_cpu 'host=127.0.0.1 port=5432 user=u dbname=d' 200      (password from PGPASSWORD)
 */
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

static double CpuMs(void) {
  struct rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  return (usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1e3 + (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e3;
}

int main(int argc, char **argv) {
  if (argc != 3 || atoi(argv[2]) < 1) {
    fprintf(stderr, "usage: login_cpu CONNINFO COUNT\n");
    return 2;
  }
  const int count = atoi(argv[2]);
  /* One login first, outside the measurement: library and provider initialisation is a one-time cost. */
  PGconn *conn = PQconnectdb(argv[1]);
  if (PQstatus(conn) != CONNECTION_OK) {
    fprintf(stderr, "login_cpu: %s", PQerrorMessage(conn));
    return 1;
  }
  PQfinish(conn);
  const double start = CpuMs();
  for (int i = 0; i < count; ++i) {
    conn = PQconnectdb(argv[1]);
    if (PQstatus(conn) != CONNECTION_OK) {
      fprintf(stderr, "login_cpu: %s", PQerrorMessage(conn));
      return 1;
    }
    PQfinish(conn);
  }
  printf("%.3f\n", (CpuMs() - start) / count);
  return 0;
}
