// A block-wide reduction for kernels that run kThreads threads per block: every thread
// passes its value and gets the reduction of all of them. `shared` holds kThreads
// values; every thread of the block must call it (it synchronises), and it may be
// called again with the same `shared` right after.
#ifndef SHOAL_KERNELS_CUDA_BLOCK_REDUCE_CUH_
#define SHOAL_KERNELS_CUDA_BLOCK_REDUCE_CUH_

namespace shoal::kernels::cuda {

template <int kThreads, typename T, typename Op>
__device__ T BlockReduce(T value, T* shared, Op op) {
  shared[threadIdx.x] = value;
  __syncthreads();
  for (int stride = kThreads / 2; stride > 0; stride /= 2) {
    if (threadIdx.x < stride) shared[threadIdx.x] = op(shared[threadIdx.x], shared[threadIdx.x + stride]);
    __syncthreads();
  }
  const T result = shared[0];
  __syncthreads();
  return result;
}

}  // namespace shoal::kernels::cuda

#endif  // SHOAL_KERNELS_CUDA_BLOCK_REDUCE_CUH_
