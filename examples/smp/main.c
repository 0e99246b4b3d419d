#include "smp.h"

// Define a pool and API
SMP_POOL_WITH_API(my_pool, 512);

int main()
{
  // Allocate memory
  void* data = my_pool_alloc(128);
  if (data == NULL)
  {
    // Allocation failed
    return -1;
  }

  // Use memory
  for (int i = 0; i < 128; i++)
  {
    ((char*) data)[i] = i;
  }

  // Deallocate memory
  my_pool_dealloc(data);
  
  return 0;
}
