/* examples/demo - tarn demo (grows with every module). */
#include <stdio.h>
#include "tarn/tarn.h"

int main(void)
{
    printf("tarn %s\n", TARN_VERSION_STRING);
    return 0;
}
